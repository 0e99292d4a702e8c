// lookup_listener(): Linux sock_diag (NETLINK_SOCK_DIAG, AF_UNIX, UDIAG_SHOW_VFS); elsewhere it
// answers unknown and the caller falls back to a connect(2) probe.
#include "posix/unix_liveness.hpp"

#ifdef __linux__
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "posix/unique_fd.hpp"
#endif

namespace npipe::posix {

#ifdef __linux__
namespace {

// The kernel reports udiag_vfs_dev in its internal dev_t encoding (major << 20 | minor), while
// stat(2) gives the userspace encoding: compare major and minor.
bool same_device(std::uint32_t kernel_dev, dev_t user_dev) noexcept {
  return (kernel_dev >> 20) == major(user_dev) && (kernel_dev & 0xfffffu) == minor(user_dev);
}

// Looks for UNIX_DIAG_VFS among the attributes that follow one unix_diag_msg.
bool message_matches(const nlmsghdr* h, const struct stat& file) noexcept {
  const auto* msg = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof *msg));
  const auto* attr = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(msg) +
                                                     NLMSG_ALIGN(sizeof *msg));
  for (; RTA_OK(attr, len); attr = RTA_NEXT(attr, len)) {
    if (attr->rta_type != UNIX_DIAG_VFS || RTA_PAYLOAD(attr) < sizeof(unix_diag_vfs)) continue;
    unix_diag_vfs vfs;
    std::memcpy(&vfs, RTA_DATA(attr), sizeof vfs);
    if (vfs.udiag_vfs_ino == file.st_ino && same_device(vfs.udiag_vfs_dev, file.st_dev)) {
      return true;
    }
  }
  return false;
}

}  // namespace

listener_lookup lookup_listener(const struct stat& file) noexcept {
  unique_fd nl(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!nl) return listener_lookup::unknown;

  struct {
    nlmsghdr header;
    unix_diag_req request;
  } query{};
  query.header.nlmsg_len = sizeof query;
  query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  query.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  query.request.sdiag_family = AF_UNIX;
  query.request.udiag_states = 1u << 10;  // TCP_LISTEN: listening sockets only
  query.request.udiag_show = UDIAG_SHOW_VFS;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(nl.get(), &query, sizeof query, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof query)) {
    return listener_lookup::unknown;
  }

  // Read the whole dump even after a match, so the answer never depends on where it stopped.
  alignas(nlmsghdr) char
      buf[32768];  // the kernel sizes dump parts to the reader's buffer, up to 32 KiB
  bool found = false;
  for (;;) {
    ssize_t got = ::recv(nl.get(), buf, sizeof buf, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return listener_lookup::unknown;
    // Walked by hand rather than with NLMSG_OK/NLMSG_NEXT, whose int/unsigned comparisons
    // trip -Wsign-compare under clang.
    const auto total = static_cast<std::size_t>(got);
    std::size_t offset = 0;
    while (offset + sizeof(nlmsghdr) <= total) {
      const auto* h = reinterpret_cast<const nlmsghdr*>(buf + offset);
      if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > total - offset) {
        return listener_lookup::unknown;
      }
      if (h->nlmsg_type == NLMSG_DONE) {
        return found ? listener_lookup::listening : listener_lookup::not_listening;
      }
      if (h->nlmsg_type == NLMSG_ERROR) return listener_lookup::unknown;
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && message_matches(h, file)) found = true;
      offset += NLMSG_ALIGN(h->nlmsg_len);
    }
  }
}

#else

listener_lookup lookup_listener(const struct stat&) noexcept {
  return listener_lookup::unknown;
}

#endif

}  // namespace npipe::posix
