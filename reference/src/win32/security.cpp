// The DACL of npipe's pipe instances: see security.hpp.
#include "win32/security.hpp"

#include "win32/errors.hpp"
#include "win32/unique_handle.hpp"

namespace npipe::win32 {
namespace {

// What the creator always keeps on its own pipe: FILE_CREATE_PIPE_INSTANCE is needed to add
// instances (Channel listener), READ_CONTROL/WRITE_DAC to inspect and fix the DACL.
constexpr DWORD kOwnerBase = FILE_CREATE_PIPE_INSTANCE | FILE_READ_ATTRIBUTES |
                             FILE_WRITE_ATTRIBUTES | READ_CONTROL | WRITE_DAC | SYNCHRONIZE;

// FILE_GENERIC_WRITE without FILE_APPEND_DATA, which for a named pipe is the same bit as
// FILE_CREATE_PIPE_INSTANCE (winnt.h: both 0x0004; "Named Pipe Security and Access Rights"):
// whoever holds it may add instances under the name, receive the owner's clients and relay
// them. Write access by name is FILE_WRITE_DATA; npipe's own clients ask for exactly that (see
// pipe_io.cpp, client_access), and so must any client of another user.
constexpr DWORD kPipeWrite = FILE_GENERIC_WRITE & ~static_cast<DWORD>(FILE_APPEND_DATA);

DWORD rights_for(unsigned read_bits, unsigned write_bits, unsigned mode) {
  DWORD rights = 0;
  if (mode & read_bits) rights |= FILE_GENERIC_READ;
  if (mode & write_bits) rights |= kPipeWrite;
  return rights;
}

}  // namespace

std::vector<unsigned char> current_user_sid() {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &raw)) {
    throw_last_error("OpenProcessToken");
  }
  unique_handle token(raw);
  DWORD size = 0;
  ::GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  if (size == 0) throw_last_error("GetTokenInformation(TokenUser)");
  std::vector<unsigned char> buf(size);
  if (!::GetTokenInformation(token.get(), TokenUser, buf.data(), size, &size)) {
    throw_last_error("GetTokenInformation(TokenUser)");
  }
  PSID sid = reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid;
  DWORD sid_size = ::GetLengthSid(sid);
  std::vector<unsigned char> out(sid_size);
  if (!::CopySid(sid_size, out.data(), sid)) throw_last_error("CopySid");
  return out;
}

pipe_security::pipe_security(unsigned mode) {
  user_ = current_user_sid();
  PSID user = user_.data();
  const DWORD user_rights = kOwnerBase | rights_for(0400, 0200, mode);
  const DWORD others_rights = rights_for(0044, 0022, mode);

  DWORD acl_size = sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) + ::GetLengthSid(user);
  if (others_rights != 0) {
    DWORD sid_size = SECURITY_MAX_SID_SIZE;
    everyone_.resize(sid_size);
    if (!::CreateWellKnownSid(WinWorldSid, nullptr, everyone_.data(), &sid_size)) {
      throw_last_error("CreateWellKnownSid(Everyone)");
    }
    everyone_.resize(sid_size);
    acl_size += sizeof(ACCESS_ALLOWED_ACE) + sid_size;
  }
  acl_.resize(acl_size);
  auto* acl = reinterpret_cast<ACL*>(acl_.data());
  if (!::InitializeAcl(acl, acl_size, ACL_REVISION)) throw_last_error("InitializeAcl");
  if (!::AddAccessAllowedAce(acl, ACL_REVISION, user_rights, user)) {
    throw_last_error("AddAccessAllowedAce(current user)");
  }
  if (others_rights != 0 &&
      !::AddAccessAllowedAce(acl, ACL_REVISION, others_rights, everyone_.data())) {
    throw_last_error("AddAccessAllowedAce(Everyone)");
  }
  if (!::InitializeSecurityDescriptor(&sd_, SECURITY_DESCRIPTOR_REVISION)) {
    throw_last_error("InitializeSecurityDescriptor");
  }
  // A protected DACL: nothing is inherited, the ACEs above are the whole list.
  if (!::SetSecurityDescriptorDacl(&sd_, TRUE, acl, FALSE)) {
    throw_last_error("SetSecurityDescriptorDacl");
  }
  ::SetSecurityDescriptorControl(&sd_, SE_DACL_PROTECTED, SE_DACL_PROTECTED);
  sa_.nLength = sizeof sa_;
  sa_.lpSecurityDescriptor = &sd_;
  sa_.bInheritHandle = FALSE;
}

}  // namespace npipe::win32
