// bulkhead-prover: Groth16 (BN254) prover for snarkjs .zkey/.wtns files.
//
//   bulkhead-prover prove <circuit.zkey> <witness.wtns> <proof.json> <public.json> [--threads N]
//   bulkhead-prover serve [--threads N]
//   bulkhead-prover selftest
//
// `prove` writes the proof and public signals in snarkjs's JSON format (both files or neither);
// on error it prints one line `error: <message>` on stderr and exits 2. `serve` answers one JSON
// request per stdin line with one JSON line on stdout, keeping proving keys loaded. `selftest`
// checks the multi-scalar multiplication against its definition (exit 0, or 1 and the case).
#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "groth16.hpp"
#include "selftest.hpp"
#include "wtns.hpp"
#include "zkey.hpp"

using json = nlohmann::ordered_json;
using namespace bulkhead;

namespace {

using Clock = std::chrono::steady_clock;

const char *kUsage =
    "usage: bulkhead-prover prove <circuit.zkey> <witness.wtns> <proof.json> <public.json> [--threads N] | "
    "bulkhead-prover serve [--threads N] | bulkhead-prover selftest";

class UsageError : public std::runtime_error {
  public:
    explicit UsageError(const std::string &m) : std::runtime_error(m) {}
};

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

json point1(const std::string &x, const std::string &y, bool zero) {
    if (zero) return json::array({"0", "1", "0"});
    return json::array({x, y, "1"});
}

json proofJson(const Proof &p) {
    json j;
    j["pi_a"] = point1(p.ax, p.ay, p.aZero);
    if (p.bZero) {
        j["pi_b"] = json::array({json::array({"0", "0"}), json::array({"1", "0"}), json::array({"0", "0"})});
    } else {
        j["pi_b"] = json::array({json::array({p.bx0, p.bx1}), json::array({p.by0, p.by1}), json::array({"1", "0"})});
    }
    j["pi_c"] = point1(p.cx, p.cy, p.cZero);
    j["protocol"] = "groth16";
    j["curve"] = "bn128";
    return j;
}

struct Result {
    json proof;
    json publicSignals;
    json timings;
};

// Keeps proving keys loaded, keyed by path; a key whose file changed (inode, size or mtime) is
// reloaded.
class KeyCache {
  public:
    const ProvingKey &get(const std::string &path, double &loadMs) {
        const FileStamp now = statFile(path, "proving key");
        auto it = keys_.find(path);
        if (it != keys_.end() && it->second->stamp == now) {
            loadMs = 0;
            return *it->second;
        }
        if (it != keys_.end()) keys_.erase(it);
        auto t0 = Clock::now();
        auto key = loadProvingKey(path);
        loadMs = msSince(t0);
        const ProvingKey &ref = *key;
        keys_[path] = std::move(key);
        return ref;
    }

  private:
    std::map<std::string, std::unique_ptr<ProvingKey>> keys_;
};

Result proveFiles(KeyCache &cache, const std::string &zkey, const std::string &wtns, unsigned threads) {
    const auto start = Clock::now();
    double loadMs = 0;
    const ProvingKey &key = cache.get(zkey, loadMs);
    auto t0 = Clock::now();
    const std::vector<Fr> witness = loadWitness(wtns, key);
    const double wtnsMs = msSince(t0);
    Timings t;
    const Proof proof = prove(key, witness, threads, t);
    Result r;
    r.proof = proofJson(proof);
    r.publicSignals = publicSignals(key, witness);
    r.timings = {{"loadMs", loadMs}, {"wtnsMs", wtnsMs}, {"abcMs", t.abcMs},       {"fftMs", t.fftMs},
                 {"msmG1Ms", t.msmG1Ms}, {"msmG2Ms", t.msmG2Ms}, {"totalMs", msSince(start)}};
    return r;
}

std::string tempPath(const std::string &path) { return path + ".tmp-" + std::to_string(getpid()); }

// Writes `text` to the new file `tmp` and syncs it; errors name `target`.
void writeTemp(const std::string &tmp, const std::string &target, const std::string &text) {
    std::remove(tmp.c_str());  // a leftover of a killed run with the same pid
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) throw InputError("cannot write " + target + ": " + std::strerror(errno));
    size_t done = 0;
    int err = 0;
    while (done < text.size() && err == 0) {
        const ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno != EINTR) err = errno;
        if (n > 0) done += static_cast<size_t>(n);
    }
    if (err == 0 && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && err == 0) err = errno;
    if (err != 0) throw InputError("cannot write " + target + ": " + std::strerror(err));
}

// Writes both files or neither: both go to temporary names first, then are renamed.
void writeOutputs(const std::string &proofPath, const std::string &publicPath, const Result &r) {
    const std::string tp = tempPath(proofPath), tq = tempPath(publicPath);
    try {
        writeTemp(tp, proofPath, r.proof.dump(1) + "\n");
        writeTemp(tq, publicPath, r.publicSignals.dump(1) + "\n");
        if (std::rename(tp.c_str(), proofPath.c_str()) != 0) {
            throw InputError("cannot write " + proofPath + ": " + std::strerror(errno));
        }
        if (std::rename(tq.c_str(), publicPath.c_str()) != 0) {
            const std::string why = std::strerror(errno);
            std::remove(proofPath.c_str());
            throw InputError("cannot write " + publicPath + ": " + why);
        }
    } catch (...) {
        std::remove(tp.c_str());
        std::remove(tq.c_str());
        throw;
    }
}

unsigned parseThreads(const std::string &v) {
    char *end = nullptr;
    errno = 0;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || n < 1 || n > 1024) {
        throw UsageError("--threads must be an integer from 1 to 1024, got '" + v + "'");
    }
    return static_cast<unsigned>(n);
}

// Splits `args` into positionals and the --threads option.
std::vector<std::string> parseArgs(int argc, char **argv, unsigned &threads) {
    std::vector<std::string> pos;
    for (int i = 2; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--threads") {
            if (i + 1 >= argc) throw UsageError("--threads needs a value");
            threads = parseThreads(argv[++i]);
        } else if (a.rfind("--threads=", 0) == 0) {
            threads = parseThreads(a.substr(10));
        } else if (a.rfind("--", 0) == 0) {
            throw UsageError("unknown option " + a);
        } else {
            pos.push_back(a);
        }
    }
    return pos;
}

int runProve(const std::vector<std::string> &args, unsigned threads) {
    if (args.size() != 4) throw UsageError("prove takes 4 paths, got " + std::to_string(args.size()));
    KeyCache cache;
    const Result r = proveFiles(cache, args[0], args[1], threads);
    writeOutputs(args[2], args[3], r);
    return 0;
}

std::string requireString(const json &req, const char *field) {
    if (!req.contains(field)) throw UsageError(std::string("request has no \"") + field + "\"");
    const json &v = req[field];
    if (!v.is_string() || v.get<std::string>().empty()) {
        throw UsageError(std::string("\"") + field + "\" must be a non-empty string");
    }
    return v.get<std::string>();
}

json handle(KeyCache &cache, const json &req, unsigned threads, bool &quit) {
    if (!req.is_object()) throw UsageError("request must be a JSON object");
    const std::string op = requireString(req, "op");
    if (op == "quit") {
        quit = true;
        return {{"ok", true}};
    }
    if (op == "load") {
        double loadMs = 0;
        const ProvingKey &k = cache.get(requireString(req, "zkey"), loadMs);
        return {{"ok", true},
                {"nVars", k.nVars},
                {"nPublic", k.nPublic},
                {"domainSize", k.domainSize},
                {"loadMs", loadMs}};
    }
    if (op == "prove") {
        const Result r = proveFiles(cache, requireString(req, "zkey"), requireString(req, "wtns"), threads);
        return {{"ok", true}, {"proof", r.proof}, {"publicSignals", r.publicSignals}, {"timings", r.timings}};
    }
    throw UsageError("unknown op \"" + op + "\" (load, prove, quit)");
}

int runServe(const std::vector<std::string> &args, unsigned threads) {
    if (!args.empty()) throw UsageError("serve takes no paths");
    KeyCache cache;
    std::string line;
    bool quit = false;
    std::cerr << "bulkhead-prover: serving with " << threads << " threads" << std::endl;
    while (!quit && std::getline(std::cin, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        json reply;
        json id = nullptr;
        try {
            const json req = json::parse(line);
            if (req.is_object() && req.contains("id")) id = req["id"];
            reply = handle(cache, req, threads, quit);
        } catch (const json::parse_error &e) {
            reply = {{"ok", false}, {"error", std::string("request is not valid JSON: ") + e.what()}};
        } catch (const std::bad_alloc &) {
            reply = {{"ok", false}, {"error", "out of memory"}};
        } catch (const std::exception &e) {
            reply = {{"ok", false}, {"error", e.what()}};
        }
        json out = {{"id", id}};
        out.update(reply);
        std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
    }
    return 0;
}

int runSelfTest(const std::vector<std::string> &args) {
    if (!args.empty()) throw UsageError("selftest takes no arguments");
    const std::string why = msmSelfTest();
    if (!why.empty()) {
        std::cerr << "error: msm self-check failed: " << why << std::endl;
        return 1;
    }
    std::cout << "msm self-check: ok (G1 and G2, windows 2-16, 1-12 threads)" << std::endl;
    return 0;
}

}  // namespace

// OpenMP threads that spin while waiting for work slow every barrier down badly when the cores
// are shared with other processes (other workers, the coordinator), so waiting threads sleep
// unless the caller chose a policy. libgomp reads the variable when it loads, hence the re-exec.
void passiveWaitPolicy(char **argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
    // exec failed (no /proc): run on with the default policy
}

int main(int argc, char **argv) {
    passiveWaitPolicy(argv);
    std::ios::sync_with_stdio(false);
    unsigned threads = static_cast<unsigned>(omp_get_num_procs());
    try {
        if (argc < 2) throw UsageError("missing command");
        const std::string cmd = argv[1];
        const std::vector<std::string> args = parseArgs(argc, argv, threads);
        omp_set_num_threads(static_cast<int>(threads));
        if (cmd == "prove") return runProve(args, threads);
        if (cmd == "serve") return runServe(args, threads);
        if (cmd == "selftest") return runSelfTest(args);
        throw UsageError("unknown command '" + cmd + "'");
    } catch (const UsageError &e) {
        std::cerr << "error: " << e.what() << " (" << kUsage << ")" << std::endl;
        return 2;
    } catch (const std::bad_alloc &) {
        std::cerr << "error: out of memory" << std::endl;
        return 2;
    } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 2;
    }
}
