// `plancache simulate --plot out.svg`: hit rate (and, when the trace has
// costs, planner-seconds saved) against cache size, one line per policy.
//
// A hand-written SVG document: a title naming the trace, axes with ticks and
// labels, a logarithmic size axis when the sizes span more than 10x, a
// legend, the knee when --sizes auto found one, and a tooltip (<title>) on
// every point with its figures, so the file reads on its own.
//
// Thread-safety: a pure function.
#pragma once

#include <string>

#include "sim/report.h"

namespace plancache::internal {

std::string render_svg(const SimReport& report);

}  // namespace plancache::internal
