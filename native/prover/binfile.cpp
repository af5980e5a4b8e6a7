#include "binfile.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bulkhead {

static FileStamp stampOf(const struct stat &st, const std::string &path, const std::string &what) {
    if (!S_ISREG(st.st_mode)) throw InputError(what + " " + path + ": not a regular file");
    FileStamp s;
    s.device = static_cast<uint64_t>(st.st_dev);
    s.inode = static_cast<uint64_t>(st.st_ino);
    s.size = static_cast<uint64_t>(st.st_size);
    s.mtimeNs = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    return s;
}

FileStamp statFile(const std::string &path, const std::string &what) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) throw InputError(what + " " + path + ": " + std::strerror(errno));
    return stampOf(st, path, what);
}

// Reads the whole file through one descriptor, so the stamp describes the bytes read
// (non-blocking open: a FIFO is refused as not a regular file instead of waiting for a writer).
static std::vector<uint8_t> readAll(const std::string &path, const std::string &what, FileStamp &stamp) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw InputError(what + " " + path + ": " + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{fd};
    struct stat st;
    if (fstat(fd, &st) != 0) throw InputError(what + " " + path + ": " + std::strerror(errno));
    stamp = stampOf(st, path, what);
    std::vector<uint8_t> data(stamp.size);
    uint64_t got = 0;
    while (got < data.size()) {
        const ssize_t n = read(fd, data.data() + got, data.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw InputError(what + " " + path + ": read failed: " + std::strerror(errno));
        if (n == 0) throw InputError(what + " " + path + ": the file shrank while it was read");
        got += static_cast<uint64_t>(n);
    }
    return data;
}

static uint32_t readU32(const uint8_t *p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

static uint64_t readU64(const uint8_t *p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

BinFile::BinFile(const std::string &path, const std::string &what, const char magic[4], uint32_t maxVersion)
    : path_(path), what_(what) {
    data_ = readAll(path, what, stamp_);
    const uint64_t n = data_.size();
    if (n < 12) fail("truncated: " + std::to_string(n) + " bytes, shorter than the file header");
    if (std::memcmp(data_.data(), magic, 4) != 0) {
        fail(std::string("wrong magic: not a ") + std::string(magic, 4) + " file");
    }
    version_ = readU32(data_.data() + 4);
    if (version_ == 0 || version_ > maxVersion) {
        fail("unsupported version " + std::to_string(version_) + " (at most " + std::to_string(maxVersion) + ")");
    }
    const uint32_t nSections = readU32(data_.data() + 8);
    uint64_t pos = 12;
    for (uint32_t i = 0; i < nSections; i++) {
        if (n - pos < 12) fail("truncated: section header " + std::to_string(i + 1) + " of " + std::to_string(nSections) + " is cut off");
        const uint32_t id = readU32(data_.data() + pos);
        const uint64_t size = readU64(data_.data() + pos + 4);
        pos += 12;
        if (size > n - pos) {
            fail("truncated: section " + std::to_string(id) + " declares " + std::to_string(size) + " bytes, only " +
                 std::to_string(n - pos) + " remain in the file");
        }
        if (sections_.count(id)) fail("section " + std::to_string(id) + " appears twice");
        sections_[id] = Span{pos, size};
        pos += size;
    }
    if (pos != n) fail(std::to_string(n - pos) + " bytes after the last section (corrupted or not a " + std::string(magic, 4) + " file)");
}

void BinFile::fail(const std::string &problem) const { throw InputError(what_ + " " + path_ + ": " + problem); }

uint64_t BinFile::sectionSize(uint32_t id) const {
    auto it = sections_.find(id);
    if (it == sections_.end()) fail("section " + std::to_string(id) + " is missing");
    return it->second.size;
}

const uint8_t *BinFile::section(uint32_t id, uint64_t expected, const std::string &name) const {
    const uint64_t size = sectionSize(id);
    if (size != expected) {
        fail("section " + std::to_string(id) + " (" + name + ") has " + std::to_string(size) + " bytes, the header implies " +
             std::to_string(expected));
    }
    return data_.data() + sections_.at(id).offset;
}

uint32_t Cursor::u32() { return readU32(bytes(4)); }

const uint8_t *Cursor::bytes(uint64_t n) {
    if (n > left_) file_.fail(name_ + " is too short");
    const uint8_t *r = p_;
    p_ += n;
    left_ -= n;
    return r;
}

}  // namespace bulkhead
