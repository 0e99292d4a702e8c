// job_queue: a consumer of jobs that any program can produce, here Python with nothing but
// os.open and os.write. The consumer owns a FIFO; producers open it by name and write one job per
// line; the consumer sees EOF when the last producer has closed (FIFO-EOF-2) and exits.
//
//   job_queue PATH            # creates PATH (mode 0600), prints "ready", then one line per job
//   python3 -c 'import os; fd = os.open("PATH", os.O_WRONLY); os.write(fd, b"resize a.png\n")'
//
// Each job line is at most PIPE_BUF bytes and written with one write(2): the kernel never
// interleaves it with another producer's (FIFO-IO-2), so several producers may share the queue.
#include <npipe/npipe.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: job_queue PATH\n");
    return 2;
  }
  try {
    npipe::fifo_options opts;
    opts.adopt_existing = true;  // a FIFO left by an earlier run (or made by os.mkfifo) is reused
    npipe::fifo_owner queue = npipe::fifo_owner::create(argv[1], npipe::direction::read, opts);
    std::printf("ready\n");
    std::fflush(stdout);
    // Wait for the first producer; later ones join while it is open.
    npipe::fifo_end in = queue.open();
    std::string pending;
    unsigned long jobs = 0;
    unsigned long bytes = 0;
    char buf[4096];
    while (std::size_t n = in.read(buf, sizeof buf)) {  // 0: every producer has closed
      pending.append(buf, n);
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;
           pending.erase(0, nl + 1)) {
        const std::string job = pending.substr(0, nl);
        ++jobs;
        bytes += job.size();
        std::printf("job %lu: %s\n", jobs, job.c_str());
      }
    }
    std::printf("done: %lu jobs, %lu bytes%s\n", jobs, bytes,
                pending.empty() ? "" : " (and an unterminated last line)");
    return 0;  // the owner removes the FIFO on destruction
  } catch (const npipe::error& e) {
    std::fprintf(stderr, "job_queue: %s\n", e.what());
    return 1;
  }
}
