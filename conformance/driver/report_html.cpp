// report_html.cpp: report.html, one self-contained page: the matrix of requirements x
// implementations, colour-coded; a click on a cell opens the runs behind it with their messages.
// The matrix itself is static HTML (readable without script); the run details are embedded as
// JSON and shown by a few lines of inline script, which keeps the page small with many runs.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "markup.hpp"
#include "report.hpp"

namespace npipe::conformance {
namespace {

std::string esc(const std::string& s) {
  return markup_escape(s);
}

// "cpython-fifo-3.8" < "cpython-fifo-3.10": digit runs compare as numbers.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (isdigit(static_cast<unsigned char>(a[i])) && isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i2 = i, j2 = j;
      while (i2 < a.size() && isdigit(static_cast<unsigned char>(a[i2])))
        ++i2;
      while (j2 < b.size() && isdigit(static_cast<unsigned char>(b[j2])))
        ++j2;
      long x = std::stol(a.substr(i, i2 - i)), y = std::stol(b.substr(j, j2 - j));
      if (x != y) return x < y;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// A cell's verdict: the worst of its runs.
struct cell {
  std::vector<int> runs;
  int pass = 0, known = 0, bad = 0, na = 0;
  std::string cls() const {
    if (runs.empty()) return "none";
    if (bad) return "bad";
    if (known) return "known";
    if (pass) return "ok";
    return "na";
  }
  std::string text() const {
    if (runs.empty()) return "";
    if (bad) return "&#x2717; " + std::to_string(bad) + "/" + std::to_string(runs.size());
    if (known) return "known " + std::to_string(known);
    if (pass) return "&#x2713; " + std::to_string(pass);
    return "n/a";
  }
};

const char* kStyle = R"CSS(
:root{--ok:#2e7d32;--okb:#e3f4e4;--bad:#c62828;--badb:#fde4e4;--known:#9a6700;--knownb:#fff3cd;
--na:#666;--nab:#eee;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}
body{margin:0;padding:12px;color:#222;background:#fff}
h1{font-size:1.3em;margin:.2em 0}
.info{color:#555;font-size:.85em;margin-bottom:8px}
.totals span{display:inline-block;margin:2px 6px 2px 0;padding:2px 8px;border-radius:10px;font-size:.9em}
.legend{font-size:.8em;margin:6px 0}
.legend span{display:inline-block;padding:1px 6px;margin-right:4px;border-radius:3px}
.wrap{overflow:auto;max-height:80vh;border:1px solid #ccc}
table.m{border-collapse:separate;border-spacing:0;font-size:.8em}
table.m th,table.m td{border-bottom:1px solid #e4e4e4;border-right:1px solid #e4e4e4;padding:2px 4px}
table.m thead th{position:sticky;top:0;background:#fafafa;z-index:2;vertical-align:bottom}
table.m thead th.impl{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;
 font-weight:600;padding:6px 2px;min-width:1.6em}
table.m th.req{position:sticky;left:0;background:#fff;z-index:1;text-align:left;font-weight:normal;
 min-width:14em;max-width:28em}
table.m thead th.corner{left:0;z-index:3}
.req b{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.95em}
.req .t{color:#444}
.st{font-size:.75em;padding:0 4px;border-radius:3px;background:#eee;margin-left:4px}
td.c{text-align:center;white-space:nowrap;min-width:3.2em;cursor:pointer}
td.ok{background:var(--okb);color:var(--ok)} td.bad{background:var(--badb);color:var(--bad);font-weight:700}
td.known{background:var(--knownb);color:var(--known)} td.na{background:var(--nab);color:var(--na)}
td.none{background:#fff;cursor:default}
table.m.hide tr.norun{display:none}
tr.sec th{background:#f0f0f0;text-align:left;font-weight:600;position:sticky;left:0}
#panel{display:none;position:fixed;inset:5vh 5vw;background:#fff;border:1px solid #888;
 box-shadow:0 4px 24px rgba(0,0,0,.3);overflow:auto;padding:12px;z-index:10}
#panel.open{display:block}
#panel h2{font-size:1.1em;margin:.2em 0 .6em}
#panel .x{float:right;font-size:1.2em;cursor:pointer;border:0;background:#eee;border-radius:4px}
.run{border-left:4px solid #ccc;padding:4px 8px;margin:8px 0;background:#fafafa;word-break:break-word}
.run.PASS{border-color:var(--ok)} .run.bad{border-color:var(--bad)} .run.known{border-color:var(--known)}
.run .msg{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8em;white-space:pre-wrap}
.badge{font-weight:700;padding:0 5px;border-radius:3px;color:#fff;background:#777}
.badge.PASS{background:var(--ok)} .badge.bad{background:var(--bad)} .badge.known{background:var(--known)}
ul.unexp{font-size:.85em} ul.unexp li{margin:4px 0;word-break:break-word}
@media (max-width:700px){body{padding:6px} table.m th.req{min-width:6.5em;max-width:7.5em}
 .req .t,.req .st{display:none} td.c{min-width:2.4em;font-size:.9em} h1{font-size:1.1em}
 #panel{inset:0}}
)CSS";

const char* kScript = R"JS(
function show(k){var p=document.getElementById('panel'),c=CELLS[k];if(!c)return;
var h='<button class="x" onclick="closePanel()" aria-label="close">&#x2715;</button><h2>'+esc(c.t)+'</h2>';
c.r.forEach(function(i){var x=RUNS[i],cls=x.u?'bad':(x.e!=='PASS'?'known':x.s);
h+='<div class="run '+cls+'"><span class="badge '+cls+'">'+esc(x.s)+'</span> <b>'+esc(x.n)+'</b> '+
'<span>'+esc(x.ro)+'</span> <small>'+x.d+' ms</small><br><small>'+esc(x.q)+'</small>'+
(x.e!=='PASS'?'<div><i>expected '+esc(x.e)+': '+esc(x.er)+'</i></div>':'')+
(x.m?'<div class="msg">'+esc(x.m)+'</div>':'')+
(x.l.length?'<div><small>logs: '+x.l.map(esc).join(', ')+'</small></div>':'')+'</div>';});
p.innerHTML=h;p.className='open';}
function closePanel(){document.getElementById('panel').className='';}
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
document.addEventListener('keydown',function(e){if(e.key==='Escape')closePanel();});
document.getElementById('hide').addEventListener('change',function(e){
document.getElementById('matrix').classList.toggle('hide',e.target.checked);});
if(location.hash.indexOf('#cell=')===0)show(decodeURIComponent(location.hash.slice(6)));
document.querySelectorAll('td.c[data-k]').forEach(function(td){td.addEventListener('click',function(){show(td.dataset.k);});});
)JS";

}  // namespace

void write_html(const report& r, const std::string& path) {
  using nlohmann::json;
  // Columns: implementations that took part in at least one run, in configuration order.
  std::set<std::string> seen;
  for (const auto& x : r.results)
    for (const auto& [role, impl] : x.roles)
      seen.insert(impl);
  std::vector<const implementation*> col_impls;
  for (const auto& i : r.implementations)
    if (seen.count(i.name)) col_impls.push_back(&i);
  // The reference first, then by name with versions in numeric order (3.8 before 3.10).
  std::sort(col_impls.begin(), col_impls.end(),
            [](const implementation* a, const implementation* b) {
              if (a->reference != b->reference) return a->reference;
              return natural_less(a->name, b->name);
            });
  std::vector<std::string> cols;
  for (auto* i : col_impls)
    cols.push_back(i->name);
  std::map<std::pair<std::string, std::string>, cell> cells;
  int total_bad = 0, total_pass = 0, total_known = 0, total_na = 0;
  json runs = json::array();
  for (std::size_t k = 0; k < r.results.size(); ++k) {
    const auto& x = r.results[k];
    std::string reqs;
    for (const auto& q : x.requirements)
      reqs += (reqs.empty() ? "" : " ") + q;
    runs.push_back({{"n", x.test},
                    {"s", x.status},
                    {"e", x.expected},
                    {"u", x.unexpected()},
                    {"er", x.expectation_reason},
                    {"m", x.message},
                    {"ro", x.roles_label()},
                    {"d", x.duration_ms},
                    {"q", reqs},
                    {"l", x.logs}});
    if (x.unexpected())
      ++total_bad;
    else if (x.status == "PASS")
      ++total_pass;
    else if (x.neutral())
      ++total_na;
    else
      ++total_known;
    std::set<std::string> impls;
    for (const auto& [role, impl] : x.roles)
      impls.insert(impl);
    for (const auto& q : x.requirements)
      for (const auto& impl : impls) {
        auto& c = cells[{q, impl}];
        c.runs.push_back(static_cast<int>(k));
        if (x.unexpected())
          ++c.bad;
        else if (x.status == "PASS")
          ++c.pass;
        else if (x.neutral())
          ++c.na;
        else
          ++c.known;
      }
  }

  std::ostringstream o;
  o << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    << "<title>npipe conformance report</title><style>" << kStyle << "</style></head><body>";
  o << "<h1>npipe conformance</h1><div class=\"info\">" << esc(r.info.time) << " &middot; "
    << esc(r.info.os) << " &middot; " << esc(r.info.kernel) << " &middot; driver "
    << esc(r.info.driver_version) << " &middot; " << r.results.size() << " runs in "
    << r.info.duration_ms / 1000.0 << " s</div>";
  o << "<div class=\"totals\"><span style=\"background:var(--badb);color:var(--bad)\">" << total_bad
    << " unexpected</span><span style=\"background:var(--okb);color:var(--ok)\">" << total_pass
    << " pass</span><span style=\"background:var(--knownb);color:var(--known)\">" << total_known
    << " known deviations</span><span style=\"background:var(--nab)\">" << total_na
    << " n/a</span></div>";
  o << "<div class=\"legend\"><span style=\"background:var(--okb)\">&#x2713; passed</span>"
    << "<span style=\"background:var(--badb)\">&#x2717; unexpected result</span>"
    << "<span style=\"background:var(--knownb)\">known deviation</span>"
    << "<span style=\"background:var(--nab)\">n/a</span> empty: no run. Click a cell."
    << " <label><input type=\"checkbox\" id=\"hide\"> hide requirements without runs</label></div>";

  o << landing_html(r);
  o << "<div class=\"wrap\"><table class=\"m\" id=\"matrix\"><thead><tr><th class=\"req "
       "corner\">Requirement</th>";
  for (const auto& c : cols)
    o << "<th class=\"impl\" title=\"" << esc(c) << "\">" << esc(c) << "</th>";
  o << "</tr></thead><tbody>";
  json cell_data = json::object();
  std::string section;
  for (const auto& q : r.requirements) {
    std::string sec = q.id.substr(0, q.id.rfind('-'));
    if (sec != section) {
      section = sec;
      o << "<tr class=\"sec\"><th colspan=\"" << cols.size() + 1 << "\">" << esc(sec)
        << "</th></tr>";
    }
    bool any = false;
    for (const auto& c : cols)
      any = any || cells.count({q.id, c});
    o << "<tr" << (any ? "" : " class=\"norun\"") << "><th class=\"req\" title=\""
      << esc(q.id + " [" + q.strength + "] " + q.title) << "\"><b>" << esc(q.id)
      << "</b><span class=\"st\">" << esc(q.strength) << "</span> <span class=\"t\">"
      << esc(q.title) << "</span></th>";
    for (std::size_t j = 0; j < cols.size(); ++j) {
      auto it = cells.find({q.id, cols[j]});
      if (it == cells.end()) {
        o << "<td class=\"c none\"></td>";
        continue;
      }
      std::string key = q.id + "|" + cols[j];
      cell_data[key] = {{"t", q.id + " \xE2\x80\x94 " + cols[j] + ": " + q.title},
                        {"r", it->second.runs}};
      o << "<td class=\"c " << it->second.cls() << "\" data-k=\"" << esc(key) << "\" title=\""
        << esc(q.id + " / " + cols[j]) << "\">" << it->second.text() << "</td>";
    }
    o << "</tr>";
  }
  o << "</tbody></table></div>";

  o << "<h2>Unexpected results (" << total_bad << ")</h2><ul class=\"unexp\">";
  for (const auto& x : r.results) {
    if (!x.unexpected()) continue;
    std::string reqs;
    for (const auto& q : x.requirements)
      reqs += (reqs.empty() ? "" : " ") + q;
    o << "<li><span class=\"badge bad\">" << esc(x.status) << "</span> <b>" << esc(x.test)
      << "</b> " << esc(x.roles_label()) << " <small>{" << esc(reqs) << "}</small><br><code>"
      << esc(x.message) << "</code></li>";
  }
  o << "</ul>";
  if (!r.info.notes.empty()) {
    o << "<h2>Notes</h2><ul class=\"unexp\">";
    for (const auto& n : r.info.notes)
      o << "<li>" << esc(n) << "</li>";
    o << "</ul>";
  }
  o << "<h2>Implementations</h2><ul class=\"unexp\">";
  for (const auto& i : r.implementations)
    o << "<li><b>" << esc(i.name) << "</b> " << esc(i.version()) << " (" << esc(i.platform()) << ")"
      << (i.reference ? " <i>reference</i>" : "") << "<br><code>" << esc(i.command) << "</code>"
      << (i.probe_error.empty() ? "" : "<br>did not start: " + esc(i.probe_error)) << "</li>";
  o << "</ul><div id=\"panel\" role=\"dialog\"></div><script>";
  // "</" must not appear inside the script element.
  auto safe = [](std::string s) {
    for (auto p = s.find("</"); p != std::string::npos; p = s.find("</", p + 3))
      s.replace(p, 2, "<\\/");
    return s;
  };
  // replace: messages need not be UTF-8 (see report_json.cpp).
  auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  o << "var RUNS=" << safe(dump(runs)) << ";var CELLS=" << safe(dump(cell_data)) << ";" << kScript
    << "</script></body></html>\n";
  std::ofstream(path) << o.str();
}

}  // namespace npipe::conformance
