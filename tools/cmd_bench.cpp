// autoglm bench: prompt processing (pp) and generation (tg) speed of one model, through the
// public API only, in llama-bench's terms: pp = a P-token prompt evaluated in one batch,
// tg = N single-token decode steps; each repeated R times after a warm-up, median reported.
// Also peak RSS, KV bytes per token, and the share of the memory-bandwidth roofline decode
// reaches: the weight bytes read per decoded token (ModelInfo::decode_bytes_per_token) times
// tg tokens/s, against a streaming-read bandwidth measured here. --batch B1,B2,.. adds batched
// decode rows (bench_batched.h): B sequences decoded together, aggregate tokens/s and the ratio
// to one sequence. -d D (llama-bench's --n-depth) runs every test with D tokens already in the
// context: tg and the batched rows decode after a D-token prompt; pp is the time of a D+P-token
// prompt less that of the D-token one, both in one batch: the P tokens' share of the work,
// their attention over the D before them included.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "args.h"
#include "core/read_bandwidth.h"
#include "autoglm/model.h"
#include "autoglm/serving.h"
#include "bench_batched.h"
#include "commands.h"

namespace autoglm::cli {
namespace {

constexpr const char* kUsage =
    "usage: autoglm bench --model PATH [-p 512] [-n 128] [-d 0] [--threads N] [--reps R] [--batch 1,4,16]\n"
    "                     [--kv f32|f16|int8] [--json]\n"
    "       (-m, -p, -n, -d, -t, -r as in llama-bench; --n-prompt, --n-gen, --n-depth also accepted)\n"
    "  -d       tokens already in the context for every test (tg128 @ d4096: decode after a 4096-token\n"
    "           prompt; pp512 @ d4096: a 4608-token prompt's time less a 4096-token one's)\n"
    "  --batch  also decode B sequences together for each B listed: aggregate tokens/s, ratio to B=1\n"
    "  --kv     KV cache type (default f16, as llama-bench)\n";

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  double mean = 0, s = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) s += (x - mean) * (x - mean);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}


// Size of the largest (last-level) data cache one core sees, from sysfs (one cache instance,
// where sysconf may sum them); sysconf as a fallback; 0 when unknown.
int64_t last_level_cache_bytes() {
  int64_t best = 0;
  int best_level = 0;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream level_f(dir + "level"), type_f(dir + "type"), size_f(dir + "size");
    int level = 0;
    std::string type, size;
    if (!(level_f >> level) || !(type_f >> type) || !(size_f >> size) || type == "Instruction") continue;
    char* end = nullptr;
    int64_t bytes = std::strtoll(size.c_str(), &end, 10);
    if (end != nullptr && *end == 'K') bytes <<= 10;
    if (end != nullptr && *end == 'M') bytes <<= 20;
    if (bytes > 0 && level >= best_level) best = bytes, best_level = level;
  }
  if (best > 0) return best;
  for (int name : {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL2_CACHE_SIZE}) {
    const long v = sysconf(name);
    if (v > 0) return v;
  }
  return 0;
}

// A "<field> <n> kB" line of a /proc file (scanf format `field_kb`, e.g. "VmHWM: %ld kB") in
// MiB, or -1 where the file or the line is missing.
double proc_kib_field_mib(const char* path, const char* field_kb) {
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, field_kb, &kib) == 1) break;
  }
  std::fclose(f);
  return kib >= 0 ? static_cast<double>(kib) / 1024.0 : -1;
}

// Peak resident set: /proc/self/status VmHWM where there is one (reset_peak_rss() can lower it
// again after the bandwidth probe's buffer is freed), else getrusage's ru_maxrss.
double peak_rss_mib() {
  if (const double mib = proc_kib_field_mib("/proc/self/status", "VmHWM: %ld kB"); mib >= 0) return mib;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Resident memory on transparent huge pages (/proc/self/smaps_rollup AnonHugePages; packed
// weights ask for them, core/large_buffer.h), or -1 where the kernel does not report it.
double huge_pages_mib() { return proc_kib_field_mib("/proc/self/smaps_rollup", "AnonHugePages: %ld kB"); }

// Sets VmHWM back to the current resident set (Linux's clear_refs "5"); false where it cannot.
bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

// A prompt of exactly `want` tokens where the vocabulary allows: single bytes tokenize to one
// token each in byte-fallback vocabularies; otherwise the closest length found. Empty for 0.
std::string make_prompt(const AutoModel& m, int64_t want, int64_t* got) {
  *got = 0;
  if (want <= 0) return {};
  // No spaces: in a byte-fallback vocabulary every letter is then exactly one token.
  const char* letters = "thequickbrownfoxjumpsoveralazydog";
  std::string text;
  int64_t len = want;
  for (int iter = 0; iter < 8; ++iter) {
    text.clear();
    for (int64_t i = 0; static_cast<int64_t>(text.size()) < len; ++i) text += letters[i % 33];
    *got = static_cast<int64_t>(m.tokenize(text).size());
    if (*got == want) break;
    len = std::max<int64_t>(1, len + (want - *got));
  }
  return text;
}

// "1,4,16" -> {1, 4, 16}: each in [1, 256], no duplicates; empty on a malformed list.
std::vector<int> parse_batches(const std::string& s) {
  std::vector<int> out;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t comma = std::min(s.find(',', i), s.size());
    const std::string item = s.substr(i, comma - i);
    if (item.empty() || item.size() > 3 || item.find_first_not_of("0123456789") != std::string::npos) return {};
    const int b = std::stoi(item);
    if (b < 1 || b > 256 || std::find(out.begin(), out.end(), b) != out.end()) return {};
    out.push_back(b);
    i = comma + 1;
  }
  return out;
}

struct Row {
  std::string test;        // "pp512", "tg128", "tg128 x4", "tg128 @ d4096"
  int batch = 0;           // sequences decoded together (0: the single-sequence pp/tg tests)
  int64_t tokens = 0;      // per sequence
  double tps = 0, tps_sd = 0, ms_per_token = 0;
  double ratio = 0;        // batched: aggregate t/s over B=1's
};

}  // namespace

int cmd_bench(int argc, char** argv) {
  // llama-bench's short options, spelled as the long ones Args understands.
  std::vector<std::string> spelled;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    spelled.push_back(a == "-p" ? "--n-prompt" : a == "-n" ? "--n-gen" : a == "-t" ? "--threads" :
                      a == "-r" ? "--reps" : a == "-m" ? "--model" : a == "-d" ? "--n-depth" : a);
  }
  std::vector<char*> av;
  for (auto& a : spelled) av.push_back(a.data());
  Args args;
  if (!args.parse(argc, av.data(), {"--model", "--n-prompt", "--n-gen", "--n-depth", "--threads", "--reps", "--batch", "--kv"},
                  {"--json", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm bench: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (!args.positional().empty()) {
    std::fprintf(stderr, "autoglm bench: unexpected argument '%s'\n%s", args.positional()[0].c_str(), kUsage);
    return 2;
  }
  if (args.has("--help") || args.has("-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  const auto model_path = args.get("--model");
  const auto p = args.get_int("--n-prompt");
  const auto n = args.get_int("--n-gen");
  const auto d = args.get_int("--n-depth");
  const auto threads = args.get_int("--threads");
  const auto reps = args.get_int("--reps");
  if (!args.ok()) {
    std::fprintf(stderr, "autoglm bench: %s\n", args.error().c_str());
    return 2;
  }
  auto in = [](const std::optional<int64_t>& v, int64_t lo, int64_t hi) { return !v || (*v >= lo && *v <= hi); };
  if (!in(p, 0, 1 << 20) || !in(n, 0, 1 << 20) || !in(d, 0, 1 << 20) || !in(threads, 0, 1024) || !in(reps, 1, 1000)) {
    std::fprintf(stderr, "autoglm bench: -p/-n/-d must be in [0, 1048576], --threads in [0, 1024], --reps in [1, 1000]\n");
    return 2;
  }
  if (!model_path) {
    std::fprintf(stderr, "autoglm bench: --model is required\n%s", kUsage);
    return 2;
  }
  const std::string kv_type = args.get("--kv").value_or("f16");
  if (kv_type != "f32" && kv_type != "f16" && kv_type != "int8") {
    std::fprintf(stderr, "autoglm bench: --kv must be f32, f16 or int8, not '%s'\n", kv_type.c_str());
    return 2;
  }
  const int64_t n_prompt = p.value_or(512), n_gen = n.value_or(128), depth = d.value_or(0);
  // llama-bench's name for a test at depth: "tg128 @ d4096".
  const std::string at_depth = depth > 0 ? " @ d" + std::to_string(depth) : "";
  std::vector<int> batches;
  if (const auto b = args.get("--batch")) {
    batches = parse_batches(*b);
    if (batches.empty()) {
      std::fprintf(stderr, "autoglm bench: --batch wants distinct sizes in [1, 256] separated by commas, not '%s'\n",
                   b->c_str());
      return 2;
    }
    if (n_gen < 1) {
      std::fprintf(stderr, "autoglm bench: --batch needs -n of at least 1\n");
      return 2;
    }
    // Every ratio is to one sequence, so B=1 always runs.
    if (std::find(batches.begin(), batches.end(), 1) == batches.end()) batches.insert(batches.begin(), 1);
    const int64_t max_b = *std::max_element(batches.begin(), batches.end());
    if (max_b * (depth + n_gen + 64) > (int64_t{1} << 24)) {
      std::fprintf(stderr, "autoglm bench: --batch %lld x -n %lld needs more KV than one cache holds\n",
                   static_cast<long long>(max_b), static_cast<long long>(n_gen));
      return 2;
    }
  }
  const int n_reps = static_cast<int>(reps.value_or(5));
  OptimizationConfig oc;
  oc.set_threads(static_cast<int>(threads.value_or(0)));
  oc.set_context_size(static_cast<int>(depth + std::max<int64_t>(n_prompt, n_gen + 2) + 16));
  oc.set_kv_cache_type(kv_type);
  const auto t_load = Clock::now();
  auto loaded = AutoModel::from_pretrained(*model_path, oc);
  if (!loaded.ok()) {
    std::fprintf(stderr, "autoglm bench: %s\n", loaded.status().to_string().c_str());
    return 1;
  }
  std::optional<AutoModel> model(std::move(loaded).value());
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_load).count();
  const ModelInfo info = model->info();

  GenerationConfig gc;
  gc.temperature = 0.0f;  // greedy: sampling cost stays negligible
  gc.repetition_penalty = 1.0f;

  std::vector<Row> rows;
  // pp: the prompt in one batch (and one sampled token, as the engine always samples).
  std::vector<double> pp;
  int64_t pp_tokens = 0;
  int64_t depth_tokens = 0;
  const std::string depth_prompt = make_prompt(*model, depth, &depth_tokens);
  if (n_prompt > 0) {
    int64_t total_tokens = 0;
    const std::string prompt = make_prompt(*model, depth + n_prompt, &total_tokens);
    gc.max_new_tokens = 1;
    auto prompt_ms = [&](const std::string& text, int64_t* tokens) -> Result<double> {
      AG_ASSIGN_OR_RETURN(const GenerationOutput out, model->generate(text, gc));
      *tokens = static_cast<int64_t>(out.prompt_tokens.size());
      return out.prompt_ms;
    };
    // At depth a repetition is a difference of two timings; on a busy host a short -p can come
    // out at or below zero, and that repetition is then taken again (a few times at most).
    constexpr int kMaxRetries = 4;
    for (int r = 0, retries = 0; r <= n_reps;) {
      int64_t n_all = 0, n_depth = 0;
      auto all = prompt_ms(prompt, &n_all);
      Result<double> before = 0.0;
      if (all.ok() && depth > 0) before = prompt_ms(depth_prompt, &n_depth);
      if (!all.ok() || !before.ok()) {
        std::fprintf(stderr, "autoglm bench: %s\n", (all.ok() ? before : all).status().to_string().c_str());
        return 1;
      }
      pp_tokens = n_all - n_depth;
      const double ms = *all - *before;
      if (pp_tokens <= 0 || ms <= 0) {
        if (pp_tokens > 0 && ++retries <= kMaxRetries) continue;
        std::fprintf(stderr, "autoglm bench: the %lld-token prompt took no longer than the %lld-token one (raise -p)\n",
                     static_cast<long long>(n_all), static_cast<long long>(n_depth));
        return 1;
      }
      if (r > 0) pp.push_back(static_cast<double>(pp_tokens) / (ms / 1000.0));
      ++r;
    }
    const double m = median(pp);
    rows.push_back({"pp" + std::to_string(pp_tokens) + at_depth, 0, pp_tokens, m, stddev(pp), 1000.0 / m, 0});
  }
  // tg: N decode steps after a one-token prompt (BOS), or the depth's prompt; generate_ms
  // covers N - 1 steps plus sampling, so ask for N + 1 tokens and count the steps actually taken.
  std::vector<double> tg, ms_tok;
  // The host's bandwidth moves within minutes (other tenants), so the probe runs right before
  // and right after the tg phase and the roofline takes the larger: a share against a probe
  // taken at another moment was off by up to 40% either way. The probe's 512 MiB buffer is not
  // counted in the peak RSS (it is measured before and reset after each probe).
  double rss_before_probes = 0, bw_before = 0, bw_after = 0, huge_mib = huge_pages_mib();
  bool probe_rss_reset = true;
  const int probe_threads = info.n_threads > 0 ? info.n_threads : 1;
  if (n_gen > 0) {
    rss_before_probes = peak_rss_mib();
    bw_before = measure_read_bandwidth(probe_threads);
    probe_rss_reset = reset_peak_rss();
    gc.max_new_tokens = static_cast<int>(n_gen + 1);
    for (int r = 0; r <= n_reps; ++r) {
      auto out = model->generate(depth_prompt, gc);
      if (!out.ok()) {
        std::fprintf(stderr, "autoglm bench: %s\n", out.status().to_string().c_str());
        return 1;
      }
      const double steps = std::max<double>(1.0, static_cast<double>(out->tokens.size()) - 1.0);
      if (r > 0) {
        tg.push_back(steps / (out->generate_ms / 1000.0));
        ms_tok.push_back(out->generate_ms / steps);
      }
    }
    rows.push_back({"tg" + std::to_string(n_gen) + at_depth, 0, n_gen, median(tg), stddev(tg), median(ms_tok), 0});
    rss_before_probes = std::max(rss_before_probes, peak_rss_mib());
    huge_mib = huge_pages_mib();  // between the probes, whose buffer would count too
    bw_after = measure_read_bandwidth(probe_threads);
    probe_rss_reset = reset_peak_rss() && probe_rss_reset;
  }
  // Batched decode through the serving engine; the single-sequence model goes first so the
  // two are never in memory together (peak RSS is the larger of the two phases).
  if (!batches.empty()) {
    model.reset();
    const int max_b = *std::max_element(batches.begin(), batches.end());
    auto eng = ServingEngine::create(*model_path, oc, batched_serving_options(max_b, std::max<int64_t>(8, depth), n_gen));
    if (!eng.ok()) {
      std::fprintf(stderr, "autoglm bench: %s\n", eng.status().to_string().c_str());
      return 1;
    }
    double one = 0;
    for (int b : batches) {
      std::vector<double> v;
      for (int r = 0; r <= n_reps; ++r) {
        auto tps = batched_decode_tps(**eng, b, depth, n_gen);
        if (!tps.ok()) {
          std::fprintf(stderr, "autoglm bench: batch %d: %s\n", b, tps.status().to_string().c_str());
          return 1;
        }
        if (r > 0) v.push_back(*tps);
      }
      const double m = median(v);
      if (b == 1) one = m;
      // ms/token: the time of one engine step, which makes a token for each of the b sequences.
      rows.push_back({"tg" + std::to_string(n_gen) + " x" + std::to_string(b) + at_depth, b, n_gen, m, stddev(v),
                      1000.0 * b / m, 0});
    }
    for (Row& r : rows) {
      if (r.batch > 0) r.ratio = one > 0 ? r.tps / one : 0;
    }
  }
  // Without a resettable peak (no /proc) the probe's buffer would be in every later reading, so
  // the peak is then the one before the probes (the batched phase is not included).
  const double rss = probe_rss_reset ? std::max(rss_before_probes, peak_rss_mib()) : rss_before_probes;
  const double bw = n_gen > 0 ? std::max(bw_before, bw_after) : measure_read_bandwidth(probe_threads);
  const double tg_med = median(tg), pp_med = median(pp);
  // At depth a decode step also reads the context's keys and values: on average over the tg
  // steps, depth + (N + 1) / 2 positions' worth (left out at depth 0, where it is a few blocks).
  const double kv_read_per_token =
      depth > 0 ? static_cast<double>(info.kv_bytes_per_token) * (static_cast<double>(depth_tokens) + (n_gen + 1) / 2.0) : 0.0;
  const double decode_gbs = (static_cast<double>(info.decode_bytes_per_token) + kv_read_per_token) * tg_med / 1e9;
  const double roofline = bw > 0 ? decode_gbs / bw : 0.0;
  // Weights that fit in the last-level cache are not read from memory each token, so the
  // memory roofline does not bound their decode (the share can pass 100%).
  const int64_t llc = last_level_cache_bytes();
  const bool fits_in_cache = llc > 0 && info.decode_bytes_per_token <= llc;

  if (args.has("--json")) {
    nlohmann::json tests = nlohmann::json::array();
    for (const Row& r : rows) {
      nlohmann::json t = {{"test", r.test}, {"batch", r.batch}, {"tokens", r.tokens}, {"tps", r.tps},
                          {"tps_sd", r.tps_sd}, {"ms_per_token", r.ms_per_token}};
      if (r.batch > 0) t["ratio_to_batch1"] = r.ratio;
      tests.push_back(std::move(t));
    }
    const nlohmann::json j = {
        {"model", *model_path}, {"threads", info.n_threads}, {"reps", n_reps}, {"kv_type", kv_type},
        {"weight_bytes", info.weight_bytes}, {"decode_bytes_per_token", info.decode_bytes_per_token},
        {"kv_bytes_per_token", info.kv_bytes_per_token}, {"load_ms", load_ms}, {"depth", depth_tokens},
        {"decode_kv_bytes_per_token", kv_read_per_token},
        {"pp_tokens", pp_tokens}, {"pp_tps", pp_med}, {"pp_tps_sd", stddev(pp)},
        {"tg_tokens", n_gen}, {"tg_tps", tg_med}, {"tg_tps_sd", stddev(tg)}, {"ms_per_token", median(ms_tok)},
        {"peak_rss_mib", rss}, {"huge_pages_mib", huge_mib}, {"bandwidth_gbs", bw}, {"bandwidth_before_tg_gbs", bw_before},
        {"bandwidth_after_tg_gbs", bw_after}, {"decode_gbs", decode_gbs}, {"roofline_share", roofline},
        {"last_level_cache_bytes", llc}, {"weights_fit_in_cache", fits_in_cache}, {"tests", tests}};
    // Invalid UTF-8 in a path is replaced rather than thrown on.
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("model: %s (%s, %lld layers, %.1f MiB of weights, %.2f MiB read per decoded token), threads %d, reps %d\n",
              model_path->c_str(), info.architecture.c_str(), static_cast<long long>(info.n_layer),
              static_cast<double>(info.weight_bytes) / (1 << 20),
              static_cast<double>(info.decode_bytes_per_token) / (1 << 20), info.n_threads, n_reps);
  std::printf("KV cache %s: %lld bytes per token\n", kv_type.c_str(), static_cast<long long>(info.kv_bytes_per_token));
  size_t width = 12;  // the test column: "tg128 x16 @ d4096" needs more
  for (const Row& r : rows) width = std::max(width, r.test.size());
  const int w = static_cast<int>(width);
  std::printf("| %-*s |        t/s |      +- |  ms/token | x batch 1 |\n|%s|-----------:|--------:|----------:|----------:|\n",
              w, "test", std::string(width + 2, '-').c_str());
  for (const Row& r : rows) {
    char ratio[32] = "";
    if (r.batch > 0) std::snprintf(ratio, sizeof ratio, "%.2f", r.ratio);
    std::printf("| %-*s | %10.2f | %7.2f | %9.3f | %9s |\n", w, r.test.c_str(), r.tps, r.tps_sd, r.ms_per_token, ratio);
  }
  std::printf("peak RSS %.1f MiB; load %.0f ms", rss, load_ms);
  if (huge_mib >= 0) std::printf("; %.0f MiB on huge pages", huge_mib);
  std::printf("\n");
  std::printf("decode reads %.2f GB/s of weights%s; measured read bandwidth %.2f GB/s (%.2f before tg, %.2f after); "
              "roofline share %.1f%%\n", decode_gbs, depth > 0 ? " and KV" : "", bw, bw_before, bw_after, 100.0 * roofline);
  if (fits_in_cache) {
    std::printf("note: %.2f MiB read per token fit in the %.0f MiB last-level cache: decode is not bound by memory "
                "bandwidth here\n",
                static_cast<double>(info.decode_bytes_per_token) / (1 << 20), static_cast<double>(llc) / (1 << 20));
  }
  return 0;
}

}  // namespace autoglm::cli
