// npipe/npipe.hpp: the one header to include. Nothing platform-specific is visible above it
// except npipe::native_handle_t.
#pragma once

#include "npipe/channel.hpp"
#include "npipe/deadline.hpp"
#include "npipe/error.hpp"
#include "npipe/fifo.hpp"
#include "npipe/handle.hpp"
#include "npipe/name.hpp"
#include "npipe/version.hpp"
