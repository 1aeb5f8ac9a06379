#include "cli/stats_table.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace plancache::cli {
namespace {

using Json = nlohmann::json;
using Row = std::vector<std::pair<std::string, std::string>>;

std::string format_value(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f", value.get<double>());
    std::string s = buf;
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  return value.dump();
}

// Scalar fields of `object`, nested objects flattened one level.
Row flatten(const Json& object) {
  Row row;
  for (const auto& [name, value] : object.items()) {
    if (value.is_object()) {
      for (const auto& [sub, subvalue] : value.items()) {
        if (!subvalue.is_structured()) row.emplace_back(name + "." + sub, format_value(subvalue));
      }
    } else if (!value.is_array()) {
      row.emplace_back(name, format_value(value));
    }
  }
  return row;
}

void print_pairs(const Row& pairs, std::ostream& out) {
  size_t width = 0;
  for (const auto& p : pairs) width = std::max(width, p.first.size());
  for (const auto& [name, value] : pairs) {
    out << "  " << name << std::string(width - name.size() + 2, ' ') << value << "\n";
  }
}

// The label of a row: its member name, or for an array element its "name"
// field (else its index); "name" is then not repeated as a column.
std::string row_label(const std::string& key, const Json& value, bool from_array) {
  if (from_array && value.contains("name") && value["name"].is_string()) {
    return value["name"].get<std::string>();
  }
  return key;
}

void print_table(const std::string& title, const Json& rows, std::ostream& out) {
  std::vector<std::string> columns;
  std::vector<std::pair<std::string, Row>> cells;
  const bool from_array = rows.is_array();
  for (const auto& [key, value] : rows.items()) {
    const std::string name = row_label(key, value, from_array);
    Row row = flatten(value);
    if (from_array) {
      std::erase_if(row, [](const auto& cell) { return cell.first == "name"; });
    }
    for (const auto& cell : row) {
      if (std::find(columns.begin(), columns.end(), cell.first) == columns.end()) {
        columns.push_back(cell.first);
      }
    }
    cells.emplace_back(name, std::move(row));
  }
  std::vector<size_t> widths;
  size_t first = title.size();
  for (const auto& c : cells) first = std::max(first, c.first.size());
  for (const std::string& column : columns) {
    size_t w = column.size();
    for (const auto& c : cells) {
      for (const auto& cell : c.second) {
        if (cell.first == column) w = std::max(w, cell.second.size());
      }
    }
    widths.push_back(w);
  }
  out << title << std::string(first - title.size(), ' ');
  for (size_t i = 0; i < columns.size(); ++i) {
    out << "  " << std::string(widths[i] - columns[i].size(), ' ') << columns[i];
  }
  out << "\n";
  for (const auto& [name, row] : cells) {
    out << name << std::string(first - name.size(), ' ');
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string value = "-";
      for (const auto& cell : row) {
        if (cell.first == columns[i]) value = cell.second;
      }
      out << "  " << std::string(widths[i] - std::min(widths[i], value.size()), ' ') << value;
    }
    out << "\n";
  }
}

bool all_objects(const Json& value) {
  if (!value.is_structured() || value.empty()) return false;
  return std::all_of(value.begin(), value.end(), [](const Json& v) { return v.is_object(); });
}

}  // namespace

void render_stats_table(const Json& stats, std::ostream& out) {
  if (!stats.is_object()) {
    out << stats.dump(2) << "\n";
    return;
  }
  Row summary;
  for (const auto& [name, value] : stats.items()) {
    if (!value.is_structured()) summary.emplace_back(name, format_value(value));
  }
  if (!summary.empty()) {
    out << "summary\n";
    print_pairs(summary, out);
  }
  for (const auto& [name, value] : stats.items()) {
    if (all_objects(value)) {
      out << "\n";
      print_table(name, value, out);
    } else if (value.is_object()) {
      out << "\n" << name << "\n";
      print_pairs(flatten(value), out);
    }
  }
}

}  // namespace plancache::cli
