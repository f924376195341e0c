#include "squeezenet/hub.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "squeezenet/error.h"

namespace squeezenet {

std::string cache_dir() {
  if (const char* h = std::getenv("SQUEEZENET_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/squeezenet";
}

std::string official_file_name(Arch arch) {
  return arch == Arch::squeezenet1_0 ? "squeezenet1_0-b66bff10.pth" : "squeezenet1_1-b8a52dc0.pth";
}

std::string sha256_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open to hash");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf, static_cast<std::size_t>(in.gcount()));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  std::string hex;
  char two[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(two, sizeof two, "%02x", md[i]);
    hex += two;
  }
  return hex;
}

namespace {

// libcurl is opened on the first download rather than linked: loading it and its TLS and directory-service
// libraries costs every process about 6 MB of resident memory (measured on Debian 12), which classifying,
// training and benchmarking never use.
struct Curl {
  decltype(&curl_easy_init) easy_init;
  decltype(&curl_easy_cleanup) easy_cleanup;
  decltype(&curl_easy_setopt) easy_setopt;
  decltype(&curl_easy_perform) easy_perform;
  decltype(&curl_easy_strerror) easy_strerror;
};

const Curl& curl_library() {
  static const Curl curl = [] {
    void* lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) throw Error(std::string("downloads need libcurl (Debian package libcurl4): ") + dlerror());
    const auto symbol = [lib]<class F>(F*& f, const char* name) {
      f = reinterpret_cast<F*>(dlsym(lib, name));
      if (!f) throw Error(std::string("libcurl.so.4 lacks ") + name);
    };
    Curl c{};
    symbol(c.easy_init, "curl_easy_init");
    symbol(c.easy_cleanup, "curl_easy_cleanup");
    symbol(c.easy_setopt, "curl_easy_setopt");
    symbol(c.easy_perform, "curl_easy_perform");
    symbol(c.easy_strerror, "curl_easy_strerror");
    return c;  // the library stays open for the process's lifetime
  }();
  return curl;
}

int report_progress(void* url, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  if (total > 0)
    std::fprintf(stderr, "\rdownloading %s: %5.1f%% of %.1f MB", static_cast<const char*>(url),
                 100.0 * static_cast<double>(now) / static_cast<double>(total), static_cast<double>(total) / 1e6);
  return 0;
}
}  // namespace

void download_verified(const std::string& url, const std::string& path, const std::string& sha256_prefix,
                       bool progress) {
  const std::string tmp = path + ".part";
  {
    std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(tmp.c_str(), "wb"), std::fclose);
    if (!out) throw Error(tmp + ": cannot create");
    const Curl& lib = curl_library();
    std::unique_ptr<CURL, void (*)(CURL*)> curl(lib.easy_init(), lib.easy_cleanup);
    if (!curl) throw Error("cannot initialise libcurl");
    char err[CURL_ERROR_SIZE] = "";
    CURL* h = curl.get();
    lib.easy_setopt(h, CURLOPT_URL, url.c_str());
    lib.easy_setopt(h, CURLOPT_WRITEDATA, out.get());
    lib.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    lib.easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    lib.easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    lib.easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(1) << 30);
    lib.easy_setopt(h, CURLOPT_NOPROGRESS, progress ? 0L : 1L);
    lib.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, report_progress);
    lib.easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<char*>(url.c_str()));
    const CURLcode rc = lib.easy_perform(h);
    if (progress) std::fprintf(stderr, "\n");
    if (rc != CURLE_OK) {
      std::remove(tmp.c_str());
      throw Error(url + ": download failed: " + (*err ? err : lib.easy_strerror(rc)));
    }
  }
  const std::string hash = sha256_hex(tmp);
  if (hash.compare(0, sha256_prefix.size(), sha256_prefix) != 0) {
    std::remove(tmp.c_str());
    throw Error(url + ": SHA-256 " + hash + " does not start with " + sha256_prefix +
                " as the file name says: corrupted or wrong file, nothing kept");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot move the download into place");
  }
}

std::string fetch_official(Arch arch, const std::string& base_url, const std::string& dir, bool progress) {
  const std::string name = official_file_name(arch);
  const std::string prefix = name.substr(name.find('-') + 1, 8);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create the cache folder (" + ec.message() + ")");
  const std::string path = (std::filesystem::path(dir) / name).string();
  if (std::filesystem::exists(path, ec) && sha256_hex(path).compare(0, prefix.size(), prefix) == 0) return path;
  std::string url = base_url;
  if (!url.empty() && url.back() != '/') url += '/';
  download_verified(url + name, path, prefix, progress);
  return path;
}

}  // namespace squeezenet
