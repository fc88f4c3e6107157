/* A stand-in for Windows' bcryptprimitives.dll, for running tomskype.exe under Wine 8 only.
 *
 * Rust's standard library (1.78 and later) gets random bytes from ProcessPrng in
 * bcryptprimitives.dll, which every Windows 10 and 11 has but Wine gained only in 9.x; Debian
 * 12's Wine 8.0 refuses to start the program without it. This DLL exports that one function,
 * built on advapi32's RtlGenRandom (SystemFunction036), which Wine 8 has. ci/windows_wine.sh
 * builds it with mingw and puts it beside the .exe under test; it is never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
