// markup.hpp: text placed in XML and HTML documents (junit.xml, report.html), escaped once here.
#pragma once

#include <string>

namespace npipe::conformance {

// Text for an XML 1.0 or HTML document, in element content or a quoted attribute: & < > "
// escaped, control characters other than newline and tab replaced by '?', and bytes that are not
// well-formed UTF-8 replaced by U+FFFD (agents' messages and stderr tails need not be UTF-8;
// either would make the whole document unreadable).
std::string markup_escape(const std::string& s);

}  // namespace npipe::conformance
