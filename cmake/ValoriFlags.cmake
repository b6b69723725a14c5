# Compiler flags that the determinism contract requires (docs/DETERMINISM.md), applied to every
# target that compiles core code, plus warnings and the optional sanitizers.
# WebAssembly SIMD (Chrome/Edge 91+, Firefox 89+, Safari 16.4+, Node 16.4+): core/dist.c has SIMD128
# kernels (i64x2.extmul of i32 lanes), and -msse2 lets Emscripten map the SSE2 paths of other
# modules (core/lthash.c's 4-block ChaCha20) onto SIMD128. Integer results are exact, so state roots
# are unchanged (the golden and identity tests prove it); VALORI_WASM_SIMD=OFF builds the scalar
# code for older engines.
option(VALORI_WASM_SIMD "WebAssembly builds: SIMD128 kernels (distances, LtHash)" ON)
function(valori_apply_flags tgt)
  target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-function)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang|GNU")
    target_compile_options(${tgt} PRIVATE -ffp-contract=off -fno-fast-math)
  endif()
  if(NOT EMSCRIPTEN AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(i[3-6]86|x86)$")
    target_compile_options(${tgt} PRIVATE -msse2 -mfpmath=sse)
  endif()
  if(EMSCRIPTEN AND VALORI_WASM_SIMD)
    target_compile_options(${tgt} PRIVATE -msimd128 -msse2)
  endif()
  if(VALORI_SANITIZE)
    target_compile_options(${tgt} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_compile_definitions(${tgt} PRIVATE VALORI_DEBUG=1) # VL_ALWAYS / VL_NEVER trap
    target_link_options(${tgt} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
