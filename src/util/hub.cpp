#include "squeezenet/hub.h"

#include <curl/curl.h>
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
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw Error("cannot initialise libcurl");
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, out.get());
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(curl.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(1) << 30);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, progress ? 0L : 1L);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, report_progress);
    curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, const_cast<char*>(url.c_str()));
    const CURLcode rc = curl_easy_perform(curl.get());
    if (progress) std::fprintf(stderr, "\n");
    if (rc != CURLE_OK) {
      std::remove(tmp.c_str());
      throw Error(url + ": download failed: " + (*err ? err : curl_easy_strerror(rc)));
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
