# Writes the trace viewer's script and styles into a header as byte arrays, so that the
# doppel binary writes self-contained pages (cli/trace_page.cc) without files beside it.
# Run as: cmake -DOUT=... -DJS=... -DCSS=... -P embed.cmake
function(embed var path out)
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" length)
  math(EXPR bytes "${length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
                       "\\1\n" hex "${hex}")
  string(APPEND ${out} "inline constexpr unsigned char ${var}_bytes[] = {\n${hex}0};\n"
                       "inline const std::string_view ${var}{reinterpret_cast<const char*>(${var}_bytes), ${bytes}};\n")
  set(${out} "${${out}}" PARENT_SCOPE)
endfunction()

set(text "// Generated from cli/viewer/ by embed.cmake: do not edit.\n#pragma once\n#include <string_view>\nnamespace doppel::cli {\n")
embed(kViewerJs "${JS}" text)
embed(kViewerCss "${CSS}" text)
string(APPEND text "}  // namespace doppel::cli\n")
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
