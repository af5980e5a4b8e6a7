// Reader for the iden3 binary container used by .zkey and .wtns files: a 4-byte magic, a u32
// version, a u32 section count, then sections of (u32 id, u64 size, bytes). Every read is
// bounds-checked against the file and the section, and every failure names the file.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bulkhead {

// An error whose message is ready to show to a user (it names the file and the problem).
class InputError : public std::runtime_error {
  public:
    explicit InputError(const std::string &message) : std::runtime_error(message) {}
};

// Identity of a file's contents as far as the file system tells: a file replaced by rename
// changes inode, one rewritten in place changes mtime (and usually size).
struct FileStamp {
    uint64_t device = 0;
    uint64_t inode = 0;
    uint64_t size = 0;
    int64_t mtimeNs = 0;
    bool operator==(const FileStamp &o) const {
        return device == o.device && inode == o.inode && size == o.size && mtimeNs == o.mtimeNs;
    }
};

// Size and modification time of a regular file; throws InputError when it is missing or not a
// regular file.
FileStamp statFile(const std::string &path, const std::string &what);

class BinFile {
  public:
    // Reads the whole file and indexes its sections. `what` describes the file in errors
    // ("proving key", "witness").
    BinFile(const std::string &path, const std::string &what, const char magic[4], uint32_t maxVersion);

    const std::string &path() const { return path_; }
    const std::string &what() const { return what_; }
    uint32_t version() const { return version_; }
    FileStamp stamp() const { return stamp_; }

    bool has(uint32_t id) const { return sections_.count(id) != 0; }
    // Size of a section that must be present exactly once.
    uint64_t sectionSize(uint32_t id) const;
    // Pointer to a section's bytes after checking that its size is exactly `expected`.
    const uint8_t *section(uint32_t id, uint64_t expected, const std::string &name) const;

    [[noreturn]] void fail(const std::string &problem) const;

  private:
    struct Span {
        uint64_t offset;
        uint64_t size;
    };
    std::string path_;
    std::string what_;
    FileStamp stamp_;
    std::vector<uint8_t> data_;
    uint32_t version_ = 0;
    std::map<uint32_t, Span> sections_;
};

// Sequential bounds-checked reader over one section.
class Cursor {
  public:
    Cursor(const BinFile &file, const uint8_t *start, uint64_t size, std::string name)
        : file_(file), p_(start), left_(size), name_(std::move(name)) {}
    uint32_t u32();
    const uint8_t *bytes(uint64_t n);
    uint64_t left() const { return left_; }

  private:
    const BinFile &file_;
    const uint8_t *p_;
    uint64_t left_;
    std::string name_;
};

}  // namespace bulkhead
