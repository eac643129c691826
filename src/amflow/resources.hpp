// What the machine can give a run: memory, for refusing sizes that cannot fit before allocating.
#pragma once

#include <cstdint>
#include <string>

namespace amflow {

// The memory a process may use, in bytes: the physical memory, or less when an address-space or
// data-size limit (setrlimit) is set.
std::uint64_t usable_memory_bytes();

// "80 GB", "512 MB", "3.1 kB": bytes for messages (decimal units).
std::string format_bytes(double bytes);

}  // namespace amflow
