# Bare-metal Cortex-M33 (Debian gcc-arm-none-eabi + libnewlib-arm-none-eabi for memcpy/memset only),
# run under qemu-system-arm -M mps3-an524 with semihosting. The core is compiled with
# VALORI_FREESTANDING: no libc allocator, no libc I/O; the runner passes a static arena allocator.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m33 -mthumb -mfloat-abi=soft -DVALORI_FREESTANDING -ffunction-sections -fdata-sections")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs -nostartfiles -Wl,--gc-sections")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-system-arm;-M;mps3-an524;-display;none;-monitor;none;-serial;none;-semihosting-config;enable=on,target=native;-kernel)
