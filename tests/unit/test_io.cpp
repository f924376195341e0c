// The atomic writer's temporaries: what a killed writer left is removed, and nothing else.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "temp_dir.h"
#include "util/io.h"

namespace squeezenet {

namespace {
// Runs write_file_atomic(path) in a child killed by the kernel part-way: past a 1-byte file-size limit, SIGXFSZ
// ends it in the middle of write(), as SIGKILL would. Returns the child's pid, which is gone by then.
pid_t killed_mid_write(const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_DFL);
    const rlimit one_byte{1, 1};
    ::setrlimit(RLIMIT_FSIZE, &one_byte);
    write_file_atomic(path, "more than one byte");
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ);
  return pid;
}
}  // namespace

TEST(RemoveStaleTemporaries, RemovesWhatAKilledWriterLeftAndNothingElse) {
  test::TempDir dir;
  const std::string dead = std::to_string(killed_mid_write(dir.file("checkpoint.safetensors")));
  std::vector<std::filesystem::path> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) left.push_back(entry.path());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].filename().string().rfind(".checkpoint.safetensors.tmp-" + dead + "-", 0), 0u);

  const std::string alive = std::to_string(::getppid());
  const std::vector<std::string> kept = {
      dir.write(".best.safetensors.tmp-" + alive + "-a1B2c3", "a live writer's"),
      dir.write("best.safetensors.tmp-" + dead + "-a1B2c3", "no leading dot"),
      dir.write(".notes.tmp-" + dead + "-a1B2c", "five characters, not mkstemp's six"),
      dir.write(".notes.tmp-" + dead + "-a1B2c3.bak", "a longer name"),
      dir.write(".notes.tmp-a1B2c3", "no process id"),
      dir.write("metrics.csv", "the run's own file")};
  std::filesystem::create_directory(dir.file(".folder.tmp-" + dead + "-a1B2c3"));
  std::filesystem::create_symlink(kept.back(), dir.file(".link.tmp-" + dead + "-a1B2c3"));

  EXPECT_EQ(remove_stale_temporaries(dir.path().string()), 1);
  EXPECT_FALSE(std::filesystem::exists(left[0]));
  for (const std::string& f : kept) EXPECT_TRUE(std::filesystem::exists(f)) << f;
  EXPECT_TRUE(std::filesystem::is_directory(dir.file(".folder.tmp-" + dead + "-a1B2c3")));
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file(".link.tmp-" + dead + "-a1B2c3")));
  EXPECT_EQ(remove_stale_temporaries(dir.file("no such folder")), 0);
}

}  // namespace squeezenet
