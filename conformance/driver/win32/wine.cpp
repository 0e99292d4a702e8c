// win32/wine.cpp: a Windows driver runs Windows agents natively: wineprefix= is refused.
#include "wine.hpp"

namespace npipe::conformance::wine {

bool start(const implementation& impl, std::string& why) {
  why = impl.name +
        ": wineprefix= runs an agent under Wine, which a Windows driver does not do "
        "(configure the entry for platform linux, or drop wineprefix=)";
  return false;
}

void stop_all() noexcept {}

}  // namespace npipe::conformance::wine
