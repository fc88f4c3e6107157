//! Stage 1, capture (interfaces, Windows): finding Npcap before libpcap is first called. Npcap
//! installs its `wpcap.dll` in `System32\Npcap` (and in `System32` itself only in "WinPcap
//! API-compatible mode"), so that folder is added to the DLL search path, as Wireshark does,
//! and the DLL is loaded once. If it is not there, listing the interfaces fails with
//! [`IfaceError::NoNpcap`](super::IfaceError::NoNpcap) (the binary then says to install
//! Npcap), instead of Windows refusing to start the program.
//!
//! Calls through a lazily imported DLL crash the program if the function is missing, so
//! functions that older capture libraries lack are looked up first ([`has`]):
//! `pcap_set_immediate_mode` is in Npcap but not in WinPcap 4.1 (still found on old machines)
//! nor in Wine's wpcap.dll.
//!
//! This relies on the executable importing `wpcap.dll` lazily (`/DELAYLOAD`, set by `build.rs`
//! for MSVC builds; CI's mingw build links a delay-import library made by `dlltool`):
//! `tomskype analyze` then runs on a machine without Npcap. Run in CI under Wine, both without
//! any `wpcap.dll` and with Wine's own (a bridge to Linux's libpcap); never with real Npcap.

use std::ffi::CStr;

use windows_sys::Win32::System::LibraryLoader::{
    GetModuleHandleW, GetProcAddress, LoadLibraryW, SetDllDirectoryW,
};
use windows_sys::Win32::System::SystemInformation::GetSystemDirectoryW;

/// A NUL-terminated UTF-16 copy of `s`, for the wide-string API.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Makes sure `wpcap.dll` can be loaded: Npcap's folder first, then the usual search path.
pub(super) fn ensure() -> Result<(), super::IfaceError> {
    let mut buf = [0u16; 512];
    // SAFETY: `buf` holds `buf.len()` UTF-16 units; the call writes at most that many and
    // returns the length written (0 on failure, more than the buffer if it is too small).
    let n = unsafe { GetSystemDirectoryW(buf.as_mut_ptr(), buf.len() as u32) } as usize;
    if let Some(dir) = buf.get(..n).filter(|_| n > 0) {
        let npcap = wide(&format!("{}\\Npcap", String::from_utf16_lossy(dir)));
        // SAFETY: `npcap` is a NUL-terminated wide string that outlives the call.
        unsafe { SetDllDirectoryW(npcap.as_ptr()) };
    }
    let dll = wide("wpcap.dll");
    // SAFETY: `dll` is a NUL-terminated wide string that outlives the call. The module stays
    // loaded for the life of the process (libpcap's functions are called through it).
    let module = unsafe { LoadLibraryW(dll.as_ptr()) };
    if module.is_null() {
        return Err(super::IfaceError::NoNpcap);
    }
    Ok(())
}

/// Whether the loaded `wpcap.dll` exports `function` (false if it is not loaded).
pub(super) fn has(function: &CStr) -> bool {
    let dll = wide("wpcap.dll");
    // SAFETY: both names are NUL-terminated and outlive the calls; a null module is checked.
    unsafe {
        let module = GetModuleHandleW(dll.as_ptr());
        !module.is_null() && GetProcAddress(module, function.as_ptr().cast()).is_some()
    }
}
