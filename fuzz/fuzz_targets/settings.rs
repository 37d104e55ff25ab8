//! Settings parsing and validation: any text is either refused with a message or gives
//! settings whose trust warnings can be computed, and that stay valid when written back.
#![no_main]

use aws_workload_identity::admission::Prepared;
use aws_workload_identity::settings::Settings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(prepared) = Prepared::parse(text) else {
        return;
    };
    let _ = prepared.deploy_warnings();
    // What validation accepted, it must accept again after a round trip through JSON.
    let written = serde_json::to_string(prepared.settings()).expect("settings serialise");
    if let Err(e) = Settings::parse_valid(&written) {
        panic!("valid settings refused after a round trip: {e}\n{written}");
    }
});
