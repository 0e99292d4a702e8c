// wine.hpp: the Wine lifecycle of an implementation with wineprefix= (implementations.conf): a
// Windows agent run under Wine by a POSIX driver. One wineserver per prefix for the whole run
// (`wineserver -p`: persistent, so every agent under Wine attaches to it instead of starting one
// inside its own process group), warmed up by one throw-away agent (the prefix's first processes
// take seconds), and stopped at the end. A server already up for the prefix (scripts/test-windows
// keeps one) is used and left running. POSIX only (posix/wine.cpp); a Windows driver runs
// Windows agents natively and refuses wineprefix= (win32/wine.cpp).
#pragma once

#include <string>

#include "implementation.hpp"

namespace npipe::conformance::wine {

// Starts (once per prefix) and warms up the wineserver of impl.wineprefix; false with `why` when
// the agent cannot run there. Holds a lock on the prefix until the driver exits: one conformance
// run per prefix at a time (the first one's `wineserver -k` would kill the other's agents).
bool start(const implementation& impl, std::string& why);
// Stops the servers this run started. Callable from the interrupt clean-up.
void stop_all() noexcept;

}  // namespace npipe::conformance::wine
