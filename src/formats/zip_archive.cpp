#include "formats/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <memory>

#include "squeezenet/error.h"

namespace squeezenet {

namespace {
std::string error_text(zip_error_t* e) { return zip_error_strerror(e); }

struct FileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// "FB", the extra field id torch.save pads with; readers skip unknown extra fields.
constexpr zip_uint16_t kPaddingFieldId = 0x4246;
constexpr uint64_t kLocalHeaderBytes = 30;
constexpr uint64_t kExtraFieldHeaderBytes = 4;
constexpr uint64_t kReadChunkBytes = uint64_t{1} << 20;
constexpr time_t kFixedMtime = 946728000;  // 2000-01-01 12:00 UTC
}  // namespace

ZipReader::ZipReader(std::string_view bytes, std::string what) : what_(std::move(what)) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) throw Error(what_ + ": cannot read as zip (" + error_text(&err) + ")");
  zip_ = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (zip_ == nullptr) {
    zip_source_free(src);
    const std::string why = error_text(&err);
    zip_error_fini(&err);
    throw Error(what_ + ": not a readable zip archive (" + why + "); the file may be truncated or corrupted");
  }
}

ZipReader::~ZipReader() { zip_discard(zip_); }

std::vector<std::string> ZipReader::names() const {
  std::vector<std::string> out;
  const zip_int64_t n = zip_get_num_entries(zip_, 0);
  for (zip_int64_t i = 0; i < n; ++i)
    if (const char* name = zip_get_name(zip_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW)) out.emplace_back(name);
  return out;
}

// Names are compared as the bytes in the archive, as torch writes and reads them.
bool ZipReader::contains(const std::string& name) const {
  return zip_name_locate(zip_, name.c_str(), ZIP_FL_ENC_RAW) >= 0;
}

std::string ZipReader::read(const std::string& name, uint64_t max_bytes, std::optional<uint64_t> expected_bytes) {
  const std::string entry = what_ + ": zip entry " + quote_input(name);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(zip_, name.c_str(), ZIP_FL_ENC_RAW, &st) != 0) throw Error(entry + " is missing");
  if (!(st.valid & ZIP_STAT_SIZE)) throw Error(entry + " does not say its size");
  if (st.size > max_bytes)
    throw Error(entry + " unpacks to " + std::to_string(st.size) + " bytes, more than the " +
                std::to_string(max_bytes) + " allowed");
  if (expected_bytes && st.size != *expected_bytes)
    throw Error(entry + " holds " + std::to_string(st.size) + " bytes, but the pickle says it needs " +
                std::to_string(*expected_bytes));
  if (st.size > kMaxTotalBytes - total_read_)
    throw Error(what_ + ": entries unpack to more than " + std::to_string(kMaxTotalBytes) + " bytes in total");
  if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE) {
    if (st.size > kMaxCompressedBytes - compressed_read_)
      throw Error(entry + " unpacks to " + std::to_string(st.size) + " bytes, which with the " +
                  std::to_string(compressed_read_) + " already unpacked passes the " +
                  std::to_string(kMaxCompressedBytes) + " allowed for compressed entries");
    compressed_read_ += st.size;
  }
  total_read_ += st.size;

  std::unique_ptr<zip_file_t, FileCloser> f(zip_fopen_index(zip_, st.index, 0));
  if (!f) throw Error(entry + ": cannot open (" + error_text(zip_get_error(zip_)) + ")");
  // Grown as data arrives rather than sized from the header, so a size claim alone costs no memory.
  std::string out;
  while (out.size() < st.size) {
    const uint64_t got = out.size();
    out.resize(got + std::min<uint64_t>(st.size - got, std::max<uint64_t>(got, kReadChunkBytes)));
    const zip_int64_t n = zip_fread(f.get(), out.data() + got, out.size() - got);
    if (n < 0) throw Error(entry + ": " + error_text(zip_file_get_error(f.get())));
    if (n == 0) throw Error(entry + " ends after " + std::to_string(got) + " of its " + std::to_string(st.size) + " bytes");
    out.resize(got + static_cast<uint64_t>(n));
  }
  // Reading on to the end makes libzip check the CRC, and shows data that unpacks beyond its declared size.
  char extra;
  const zip_int64_t more = zip_fread(f.get(), &extra, 1);
  if (more < 0) throw Error(entry + ": " + error_text(zip_file_get_error(f.get())));
  if (more > 0) throw Error(entry + " unpacks to more than its declared " + std::to_string(st.size) + " bytes");
  return out;
}

std::string write_zip(const std::vector<ZipEntry>& entries, std::size_t alignment) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (out == nullptr) throw Error("zip: " + error_text(&err));
  zip_source_keep(out);  // so that it outlives zip_close and we can read the archive back
  std::unique_ptr<zip_source_t, decltype(&zip_source_free)> out_owner(out, zip_source_free);
  zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &err);
  if (za == nullptr) throw Error("zip: " + error_text(&err));
  auto fail = [&](const std::string& step) {
    const std::string why = error_text(zip_get_error(za));
    zip_discard(za);
    throw Error("zip: " + step + ": " + why);
  };

  const std::string padding(alignment, 'Z');
  uint64_t offset = 0;  // of the next local header: entries are written in order, uncompressed
  for (const ZipEntry& e : entries) {
    zip_source_t* src = zip_source_buffer(za, e.data.data(), e.data.size(), 0);
    if (src == nullptr) fail("adding " + e.name);
    const zip_int64_t index = zip_file_add(za, e.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      fail("adding " + e.name);
    }
    const auto i = static_cast<zip_uint64_t>(index);
    const uint64_t header = kLocalHeaderBytes + e.name.size() + kExtraFieldHeaderBytes;
    const auto pad = static_cast<zip_uint16_t>((alignment - (offset + header) % alignment) % alignment);
    if (zip_set_file_compression(za, i, ZIP_CM_STORE, 0) != 0 || zip_file_set_mtime(za, i, kFixedMtime, 0) != 0 ||
        zip_file_extra_field_set(za, i, kPaddingFieldId, ZIP_EXTRA_FIELD_NEW,
                                 reinterpret_cast<const zip_uint8_t*>(padding.data()), pad, ZIP_FL_LOCAL) != 0)
      fail("setting up " + e.name);
    offset += header + pad + e.data.size();
  }
  if (zip_close(za) != 0) fail("writing");

  if (zip_source_open(out) != 0) throw Error("zip: cannot reopen the written archive");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(out, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    zip_source_close(out);
    throw Error("zip: cannot size the written archive");
  }
  std::string bytes(st.size, '\0');
  const zip_int64_t n = zip_source_read(out, bytes.data(), bytes.size());
  zip_source_close(out);
  if (n < 0 || static_cast<uint64_t>(n) != st.size) throw Error("zip: cannot read back the written archive");
  return bytes;
}

}  // namespace squeezenet
