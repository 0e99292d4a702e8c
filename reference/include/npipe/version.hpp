// npipe/version.hpp
#pragma once

#define NPIPE_VERSION_MAJOR 0
#define NPIPE_VERSION_MINOR 1
#define NPIPE_VERSION_PATCH 0
#define NPIPE_VERSION_STRING "0.1.0"
