//! The plain C-ABI of the core WebAssembly module (no wasm-bindgen; the module imports nothing).
//! Versioned like OPA's: a major version that changes only with breaking changes, a minor one
//! that only adds. See ABI.md.
//!
//! Protocol: the host calls `callguard_alloc(len)`, writes UTF-8 JSON there, calls an entry point
//! with `(ptr, len)`, and gets a `u64` back: the answer's pointer in the high 32 bits and its
//! length in the low 32. It reads the answer and releases both buffers with `callguard_free`.
//! Every answer is a JSON envelope; only a broken module traps.

use crate::api;
use crate::engine::Engine;
use crate::model::Problem;

pub const ABI_MAJOR: u32 = 1;
pub const ABI_MINOR: u32 = 2;

/// Leaks `answer` to the host as `(ptr << 32) | len`.
fn hand_over(answer: String) -> u64 {
    let bytes = answer.into_bytes().into_boxed_slice();
    let len = bytes.len() as u64;
    let ptr = Box::into_raw(bytes) as *mut u8 as usize as u64;
    (ptr << 32) | (len & 0xffff_ffff)
}

/// Reads the host's input; invalid UTF-8 becomes a failure answer, not a trap.
///
/// # Safety
/// `ptr..ptr+len` must be memory the host wrote through `callguard_alloc`.
unsafe fn read_input(ptr: *const u8, len: usize) -> Result<String, String> {
    if len == 0 {
        return Ok(String::new());
    }
    if ptr.is_null() {
        return Err(api::envelope::<()>(Err(vec![Problem::new(
            "invalid_input",
            "input pointer is null",
        )])));
    }
    // SAFETY: the caller guarantees the buffer is valid for `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        api::envelope::<()>(Err(vec![Problem::new(
            "invalid_utf8",
            format!(
                "input is not valid UTF-8 at byte {}",
                e.utf8_error().valid_up_to()
            ),
        )]))
    })
}

/// # Safety
/// `ptr..ptr+len` must be a buffer from `callguard_alloc`.
unsafe fn entry(ptr: *const u8, len: usize, op: impl FnOnce(&mut Engine, &str) -> String) -> u64 {
    // SAFETY: forwarded from the caller.
    let answer = match unsafe { read_input(ptr, len) } {
        Ok(input) => api::with_instance_engine(|engine| op(engine, &input)),
        Err(failure) => failure,
    };
    hand_over(answer)
}

#[no_mangle]
pub extern "C" fn callguard_abi_major() -> u32 {
    ABI_MAJOR
}

#[no_mangle]
pub extern "C" fn callguard_abi_minor() -> u32 {
    ABI_MINOR
}

/// Builds the engine with the embedded packs now rather than on the first call, and runs every
/// rule's examples once so the regex engines' lazy caches are warm. A host may run this once and
/// snapshot the instance (wizer), so that every fresh instance starts warm. Added in ABI 1.1.
#[no_mangle]
pub extern "C" fn callguard_init() {
    api::with_instance_engine(|engine| {
        api::self_test_json(engine);
        // Scoring uses the call cues and date regexes, which the examples do not touch.
        api::score_json(engine, WARM_UP_CALL)
    });
}

/// A short call that exercises every call-level cue and the promise parser.
const WARM_UP_CALL: &str = r#"{"content":"坐席：您好，这里是贷后服务中心，我是工号1001的客服小王，请问是张伟先生本人吗？\n客户：是我，我住院了，我是他同事，我才12岁\n坐席：您的贷款逾期了，明天下午3点前可以还款吗？\n客户：我尽量过几天还，打错了，不是\n坐席：好的，感谢您的接听，再见","format":"text","dpd":10}"#;

/// Allocates `len` bytes for the host to write into.
#[no_mangle]
pub extern "C" fn callguard_alloc(len: usize) -> *mut u8 {
    let buffer = vec![0u8; len].into_boxed_slice();
    Box::into_raw(buffer) as *mut u8
}

/// Frees a buffer from `callguard_alloc` or an answer.
///
/// # Safety
/// `ptr` and `len` must describe exactly one live buffer from this module.
#[no_mangle]
pub unsafe extern "C" fn callguard_free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: the caller hands back a buffer this module leaked with this length.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
}

/// # Safety
/// `ptr..ptr+len` must be a buffer from `callguard_alloc` holding a `CheckCall` JSON.
#[no_mangle]
pub unsafe extern "C" fn callguard_check(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, |e, json| api::check_json(e, json)) }
}

/// # Safety
/// As for `callguard_check`, with a `ScoreCall`.
#[no_mangle]
pub unsafe extern "C" fn callguard_score(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, |e, json| api::score_json(e, json)) }
}

/// # Safety
/// As for `callguard_check`, with a `GateRequest`.
#[no_mangle]
pub unsafe extern "C" fn callguard_gate(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, |e, json| api::gate_json(e, json)) }
}

/// # Safety
/// As for `callguard_check`; the input is ignored and may be empty.
#[no_mangle]
pub unsafe extern "C" fn callguard_packs(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, |e, _| api::packs_json(e)) }
}

/// Runs every loaded pack's `bad` / `allows` examples; a failure lists each broken one.
/// Added in ABI 1.1.
///
/// # Safety
/// As for `callguard_check`; the input is ignored and may be empty.
#[no_mangle]
pub unsafe extern "C" fn callguard_self_test(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, |e, _| api::self_test_json(e)) }
}

/// Loads a custom pack (`{"toml": "…"}`) into this instance; its examples must pass.
///
/// # Safety
/// As for `callguard_check`, with a `LoadPackCall`.
#[no_mangle]
pub unsafe extern "C" fn callguard_load_pack(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, api::load_pack_json) }
}

/// Lists the trainer scenarios. Added in ABI 1.2.
///
/// # Safety
/// As for `callguard_check`; the input is ignored and may be empty.
#[no_mangle]
pub unsafe extern "C" fn callguard_scenarios(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, |e, _| api::scenarios_json(e)) }
}

/// Replays a trainee's replies in a scenario (`{"scenario", "replies": […]}`). Added in ABI 1.2.
///
/// # Safety
/// As for `callguard_check`, with a `PracticeCall`.
#[no_mangle]
pub unsafe extern "C" fn callguard_practice(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { entry(ptr, len, |e, json| api::practice_json(e, json)) }
}
