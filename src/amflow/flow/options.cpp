#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"

namespace amflow::flow {

stepper_kind parse_stepper(const std::string& name, const std::string& field) {
  if (name == "rk4") return stepper_kind::rk4;
  if (name == "dopri5") return stepper_kind::dopri5;
  if (name == "rkf78") return stepper_kind::rkf78;
  if (name == "bulirsch-stoer") return stepper_kind::bulirsch_stoer;
  if (name == "taylor") return stepper_kind::taylor;
  if (name == "radau") return stepper_kind::radau;
  if (name == "auto") return stepper_kind::automatic;
  throw input_error(field, name,
                    "unknown stepper (rk4, dopri5, rkf78, bulirsch-stoer, taylor, radau, auto)");
}

std::string stepper_name(stepper_kind k) {
  switch (k) {
    case stepper_kind::rk4:
      return "rk4";
    case stepper_kind::dopri5:
      return "dopri5";
    case stepper_kind::rkf78:
      return "rkf78";
    case stepper_kind::bulirsch_stoer:
      return "bulirsch-stoer";
    case stepper_kind::taylor:
      return "taylor";
    case stepper_kind::radau:
      return "radau";
    case stepper_kind::automatic:
      return "auto";
  }
  return "?";
}

time_kind parse_time(const std::string& name, const std::string& field) {
  if (name == "linear") return time_kind::linear;
  if (name == "log") return time_kind::log;
  throw input_error(field, name, "unknown time variable (linear, log)");
}

std::string time_name(time_kind k) { return k == time_kind::log ? "log" : "linear"; }

}  // namespace amflow::flow
