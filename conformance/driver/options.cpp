// options.cpp: command-line parsing (see options.hpp).
#include "options.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "platform.hpp"

#ifndef NPIPE_SOURCE_DIR
#define NPIPE_SOURCE_DIR "."
#endif

namespace npipe::conformance {
namespace {

const char* const usage = R"(usage: npipe-conformance [options] [--gtest_* options]

Runs the npipe conformance scenarios against the configured implementations and writes
report.json, junit.xml and report.html. Exit status: 0 when every result is as expected, 1 when
any result is unexpected (a FAIL not listed in expectations/, or a listed one that passed) or an
implementation taking part did not run (NOT RUN: its needs= prerequisites are missing; or it
did not start), 2 on a usage or configuration error.

  --impl NAME=COMMAND   add an implementation: COMMAND starts its agent (repeatable)
  --only NAME[,NAME]    test only these implementations (their reference still partners them)
  --reference NAME      the partner for two-role scenarios (default: the reference of this platform)
  --matrix              run two-role scenarios for every pair of implementations, both ways
  --no-cpython          do not add the CPython agents found on this machine
  --filter GLOB         only scenarios whose name matches GLOB, e.g. 'fifo_eof.*' (repeatable)
  --jobs N              scenarios run at once (default 4; 1 with --gtest_filter/repeat)
  --list                list the scenarios and the requirements they check, then exit
  --report-dir DIR      where reports and agent logs go (default build/conformance)
  --conf FILE           implementations file (default SOURCE/conformance/implementations.conf)
  --expectations DIR    known-deviation files (default SOURCE/conformance/expectations)
  --source-dir DIR      the npipe checkout (default: where this binary was built from)
  --bin-dir DIR         ${BIN_DIR} in implementations.conf (default: this binary's directory)
  --step-timeout MS     deadline of every step (default 5000)
  --watchdog MS         deadline of a whole scenario (default 30000)
  --pending-limit MS    how long /proc may take to prove a call blocked (default 3000)
  --pending-grace MS    "blocked" without /proc: no reply for this long (default 300)
)";

[[noreturn]] void die(const std::string& why) {
  std::cerr << "npipe-conformance: " << why << "\n(--help for usage)\n";
  std::exit(2);
}

std::chrono::milliseconds ms(const std::string& v, const std::string& flag) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (!end || *end || n <= 0) die(flag + " wants a positive number of milliseconds");
  return std::chrono::milliseconds(n);
}

}  // namespace

options parse_options(int argc, char** argv) {
  options o;
  o.source_dir = NPIPE_SOURCE_DIR;
  o.bin_dir = platform::self_dir();
  o.python = platform::default_python();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v;
    auto eq = a.find('=');
    bool has_inline = a.rfind("--", 0) == 0 && eq != std::string::npos && a != "--impl";
    if (has_inline && a.rfind("--impl=", 0) != 0) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (a.rfind("--impl=", 0) == 0) {
      v = a.substr(7);
      a = "--impl";
      has_inline = true;
    }
    auto value = [&]() -> std::string {
      if (has_inline) return v;
      if (i + 1 >= argc) die(a + " wants a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      std::exit(0);
    } else if (a == "--impl")
      o.impls.push_back(value());
    else if (a == "--only") {
      std::istringstream in(value());
      for (std::string n; std::getline(in, n, ',');)
        if (!n.empty()) o.only.push_back(n);
    } else if (a == "--reference")
      o.reference = value();
    else if (a == "--matrix")
      o.matrix = true;
    else if (a == "--no-cpython")
      o.cpython = false;
    else if (a == "--filter")
      o.filters.push_back(value());
    else if (a == "--list")
      o.list = true;
    else if (a == "--jobs" || a == "-j") {
      o.jobs = std::atoi(value().c_str());
      if (o.jobs < 1 || o.jobs > 64) die("--jobs wants 1..64");
    } else if (a == "--report-dir")
      o.report_dir = value();
    else if (a == "--conf")
      o.conf = value();
    else if (a == "--expectations")
      o.expectations_dir = value();
    else if (a == "--source-dir")
      o.source_dir = value();
    else if (a == "--bin-dir")
      o.bin_dir = value();
    else if (a == "--python")
      o.python = value();
    else if (a == "--step-timeout")
      o.run.step_timeout = ms(value(), a);
    else if (a == "--watchdog")
      o.run.watchdog = ms(value(), a);
    else if (a == "--pending-limit")
      o.run.pending_limit = ms(value(), a);
    else if (a == "--pending-grace")
      o.run.pending_grace = ms(value(), a);
    else
      die("unknown option " + a);
  }
  if (o.conf.empty()) o.conf = o.source_dir + "/conformance/implementations.conf";
  if (o.expectations_dir.empty()) o.expectations_dir = o.source_dir + "/conformance/expectations";
  return o;
}

}  // namespace npipe::conformance
