// report_landing.cpp: the first screen of report.html: implementations x requirement families,
// and each implementation's conformance level per profile (spec/npipe.md section 3.2).
//
// Whose result is a run? A run pairs the implementation under test with the reference; the
// reference must pass every scenario (expectations/reference-posix.txt is empty), so a run that
// did not pass (FAIL, N/A, ...) is held against the non-reference implementations in it, and
// against a reference only when it played every role; a PASS credits everyone in it. A verdict
// counts for the profile of the scenario that gave it (NAME-3 is a FIFO and a Channel
// requirement; a channel scenario says nothing about the FIFO profile).
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "markup.hpp"
#include "report.hpp"

namespace npipe::conformance {
namespace {

enum class verdict { none, pass, skip, na, fail };

struct tally {
  int pass = 0, fail = 0, na = 0;
};

bool applies_to(const std::string& platforms, const std::string& platform) {
  std::istringstream in(platforms);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item == "all" || item == platform || (item == "posix" && platform != "windows"))
      return true;
  }
  return false;
}

bool has_profile(const requirement& q, const std::string& profile) {
  return q.profile.find(profile) != std::string::npos;
}

std::string family_of(const std::string& id) {
  return id.substr(0, id.rfind('-'));
}

}  // namespace

std::string landing_html(const report& r) {
  std::map<std::string, const requirement*> reqs;
  for (const auto& q : r.requirements)
    reqs[q.id] = &q;
  std::set<std::string> references;
  for (const auto& i : r.implementations)
    if (i.reference) references.insert(i.name);

  // v[impl][profile][requirement]: fail beats n/a beats pass beats skip.
  std::map<std::string, std::map<std::string, std::map<std::string, verdict>>> v;
  for (const auto& x : r.results) {
    std::set<std::string> impls;
    for (const auto& [role, impl] : x.roles)
      impls.insert(impl);
    bool all_ref = std::all_of(impls.begin(), impls.end(),
                               [&](const std::string& n) { return references.count(n) > 0; });
    verdict here = x.status == "PASS"   ? verdict::pass
                   : x.status == "SKIP" ? verdict::skip
                   : x.status == "N/A"  ? verdict::na
                                        : verdict::fail;
    for (const auto& impl : impls) {
      verdict mine = here;
      if (here != verdict::pass && references.count(impl) && !all_ref) mine = verdict::none;
      auto& by_req = v[impl][x.profile];
      for (const auto& q : x.requirements) {
        // A known deviation is held against the one requirement its expectation line names;
        // the scenario's other requirements are not shown broken by it.
        if (here == verdict::fail && !x.expectation_requirement.empty() &&
            q != x.expectation_requirement)
          continue;
        verdict& cur = by_req[q];
        if (static_cast<int>(mine) > static_cast<int>(cur)) cur = mine;
      }
    }
  }

  std::vector<std::string> families;
  for (const auto& q : r.requirements)
    if (q.strength != "WITHDRAWN" &&
        std::find(families.begin(), families.end(), family_of(q.id)) == families.end())
      families.push_back(family_of(q.id));

  std::ostringstream o;
  o << "<h2>Conformance at a glance</h2><div class=\"info\">Each cell: the requirements of that "
       "family with runs for the implementation, as MUSTs passed / MUSTs checked (a known "
       "deviation counts as failed; n/a: only unsupported runs). Level per profile as "
       "spec/npipe.md 3.2 defines it: <b>conforms</b> when every MUST and PLATFORM-DEFINED "
       "requirement checked passes, <b>complete</b> when every SHOULD checked passes too. MUSTs "
       "the driver protocol cannot observe are not checked here.</div>";
  o << "<div class=\"wrap\"><table class=\"m\"><thead><tr><th class=\"req corner\">"
       "Implementation</th><th>fifo</th><th>channel</th>";
  for (const auto& f : families)
    o << "<th class=\"impl\">" << markup_escape(f) << "</th>";
  o << "</tr></thead><tbody>";
  for (const auto& impl : r.implementations) {
    if (!v.count(impl.name)) {
      o << "<tr><th class=\"req\"><b>" << markup_escape(impl.name) << "</b></th><td colspan=\""
        << families.size() + 2 << "\" class=\"c bad\">"
        << markup_escape(impl.probe_error.empty() ? "no runs" : impl.probe_error) << "</td></tr>";
      continue;
    }
    const auto& mine_by_profile = v[impl.name];
    // The families' cells take both profiles: the worst verdict of each requirement.
    std::map<std::string, verdict> mine;
    for (const auto& [profile, by_req] : mine_by_profile)
      for (const auto& [id, verd] : by_req)
        if (static_cast<int>(verd) > static_cast<int>(mine[id])) mine[id] = verd;
    o << "<tr><th class=\"req\"><b>" << markup_escape(impl.name) << "</b> <span class=\"t\">"
      << markup_escape(impl.version()) << "</span></th>";
    for (const char* profile : {"fifo", "channel"}) {
      if (!impl.offers(profile)) {
        o << "<td class=\"c none\">not offered</td>";
        continue;
      }
      tally must, should;
      auto of_profile = mine_by_profile.find(profile);
      static const std::map<std::string, verdict> nothing;
      for (const auto& [id, verd] :
           of_profile == mine_by_profile.end() ? nothing : of_profile->second) {
        auto it = reqs.find(id);
        if (it == reqs.end() || !has_profile(*it->second, profile) ||
            !applies_to(it->second->platforms, impl.platform()) || verd == verdict::skip ||
            verd == verdict::none)
          continue;
        tally& t = it->second->strength == "SHOULD" ? should : must;
        if (it->second->strength == "MAY") continue;
        (verd == verdict::pass ? t.pass : verd == verdict::na ? t.na : t.fail)++;
      }
      int checked = must.pass + must.fail + must.na;
      std::string cls = must.fail || must.na ? "bad" : "ok";
      std::string text = must.fail || must.na
                             ? "does not conform: " + std::to_string(must.fail) + " failed, " +
                                   std::to_string(must.na) + " n/a of " + std::to_string(checked)
                         : should.fail || should.na ? "conforms (" + std::to_string(checked) + ")"
                                                    : "complete (" + std::to_string(checked) + ")";
      if (checked == 0) {
        cls = "na";
        text = "nothing checked";
      }
      o << "<td class=\"c " << cls << "\">" << markup_escape(text) << "</td>";
    }
    for (const auto& f : families) {
      tally t;
      for (const auto& [id, verd] : mine) {
        auto it = reqs.find(id);
        if (it == reqs.end() || family_of(id) != f || verd == verdict::skip ||
            verd == verdict::none)
          continue;
        if (it->second->strength != "MUST" && it->second->strength != "PLATFORM-DEFINED") continue;
        (verd == verdict::pass ? t.pass : verd == verdict::na ? t.na : t.fail)++;
      }
      int n = t.pass + t.fail + t.na;
      if (n == 0) {
        o << "<td class=\"c none\"></td>";
      } else if (t.pass == 0 && t.fail == 0) {
        o << "<td class=\"c na\">n/a</td>";
      } else {
        o << "<td class=\"c "
          << (t.fail ? "bad"
              : t.na ? "known"
                     : "ok")
          << "\">" << t.pass << "/" << n << "</td>";
      }
    }
    o << "</tr>";
  }
  o << "</tbody></table></div><h2>Requirements &times; implementations</h2>";
  return o.str();
}

}  // namespace npipe::conformance
