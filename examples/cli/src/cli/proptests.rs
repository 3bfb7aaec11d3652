//! Property tests: no argument vector makes the command line (or the value parsers the commands
//! run on their arguments) panic. Every input ends as `Ok` or an ordinary error.

use std::str::FromStr;

use clap::Parser;
use gdap_core::{SecurityGroupId, TenantId};
use gdap_onboard::RelationshipTemplate;
use gdap_onboard::workflows::request::validate_display_name;
use proptest::prelude::*;

use super::{Cli, parse_days, parse_duration, parse_template};

/// Subcommand names, flags and options (global and per command) of `gdap`.
const WORDS: &[&str] = &[
    "connect",
    "sync",
    "tenants",
    "onboard",
    "refresh-perms",
    "migrate",
    "request-permissions",
    "expiring",
    "audit",
    "my-tenant",
    "resume",
    "demo",
    "groups",
    "wait-approval",
    "auto-extend",
    "remove-ga",
    "repair",
    "trace",
    "help",
    "enable",
    "disable",
    "--sandbox",
    "--tenants",
    "--seed",
    "--faults",
    "--sandbox-propagation-ms",
    "--authority",
    "--graph-endpoint",
    "--partner-center-endpoint",
    "--client-id",
    "--client-secret-file",
    "--refresh-token-file",
    "--partner-tenant",
    "--security-group",
    "--state-dir",
    "--output",
    "-o",
    "-v",
    "-vvv",
    "--verbose",
    "--help",
    "-h",
    "--version",
    "-V",
    "--port",
    "--login-hint",
    "--timeout",
    "--all-ready",
    "--all-legacy",
    "--dry-run",
    "--concurrency",
    "--template",
    "--name",
    "--within",
    "--run",
    "--service-account",
    "--relationship",
    "--assign",
    "--webhook-url",
    "--force",
    "--yes",
    "-y",
    "--user",
    "--tenant",
    "--sandbox-auto-approve-ms",
    "--",
    "-",
];

/// How many of [`WORDS`] (the first ones) are subcommands.
const SUBCOMMANDS: usize = 18;

/// Values that sit near what the parsers accept (and what they reject).
const VALUES: &[&str] = &[
    "0",
    "1",
    "64",
    "65",
    "5000",
    "5001",
    "-1",
    "18446744073709551616",
    "30d",
    "31d",
    "0d",
    "d",
    "30D",
    " 7d ",
    "flaky",
    "throttled",
    "slow",
    "none",
    "json",
    "table",
    "AppInstall",
    "helpdesk",
    "11111111-2222-3333-4444-555555555555",
    "{11111111-2222-3333-4444-555555555555}",
    "11111111222233334444555555555555",
    "not-a-guid",
    "http://127.0.0.1:1/prefix/",
    "https://login.microsoftonline.com",
    "::::",
    "app-install",
    "least-privilege",
    "1h",
    "30m",
    "90s",
    "1h30m",
    "0s",
    "8d",
    "https://msp.example/hooks",
    "http://msp.example/hooks",
    "11111111-2222-3333-4444-555555555555-11111111-2222-3333-4444-555555555555",
    "admin@sandboxmsp.onmicrosoft.com",
    "",
];

/// One argument: a known word, a near-valid value, or anything at all.
fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_owned),
        2 => prop::sample::select(VALUES).prop_map(str::to_owned),
        2 => any::<String>(),
        1 => "[-a-zA-Z0-9=]{0,12}",
        // A known option glued to an arbitrary value: `--within=…`.
        1 => (prop::sample::select(WORDS), any::<String>())
            .prop_map(|(w, v)| format!("{w}={v}")),
    ]
}

fn parse(args: &[String]) {
    // Ok or a clap error (help and version are errors too); a panic fails the test.
    let _ = Cli::try_parse_from(std::iter::once("gdap".to_owned()).chain(args.iter().cloned()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(args in prop::collection::vec(any::<String>(), 0..8)) {
        parse(&args);
    }

    #[test]
    fn mixes_of_real_names_and_arbitrary_values_never_panic(
        args in prop::collection::vec(arg(), 0..10),
    ) {
        parse(&args);
    }

    #[test]
    fn each_subcommand_with_arbitrary_arguments_never_panics(
        sub in prop::sample::select(&WORDS[..SUBCOMMANDS]),
        args in prop::collection::vec(arg(), 0..6),
    ) {
        let mut all = vec![sub.to_owned()];
        all.extend(args);
        parse(&all);
    }

    #[test]
    fn value_parsers_never_panic(s in prop_oneof![
        any::<String>(),
        prop::sample::select(VALUES).prop_map(str::to_owned),
        "[0-9]{0,25}[dD]?",
    ]) {
        if let Ok(days) = parse_days(&s) {
            prop_assert!((0..=30).contains(&days), "{s:?} parsed to {days}");
        }
        let _ = TenantId::from_str(&s);
        let _ = SecurityGroupId::from_str(&s);
        let _ = RelationshipTemplate::by_short_name(&s);
        let _ = validate_display_name(&s);
        if let Ok(d) = parse_duration(&s) {
            prop_assert!(d.as_secs() >= 1 && d.as_secs() <= 7 * 86_400, "{s:?} parsed to {d:?}");
        }
    }

    #[test]
    fn template_names_never_panic(s in prop_oneof![
        "[-_ a-zA-Z]{0,20}",
        prop::sample::select(VALUES).prop_map(str::to_owned),
    ]) {
        // Names only: anything else is read as a path, which must not be arbitrary here.
        if let Ok(t) = parse_template(&s) {
            prop_assert!(t.label == "app-install" || t.label == "least-privilege" || t.label == s);
        }
    }

    #[test]
    fn within_flag_accepts_exactly_zero_to_thirty_days(n in -100i64..100, suffix in prop::bool::ANY) {
        let v = if suffix { format!("{n}d") } else { n.to_string() };
        let parsed = Cli::try_parse_from(["gdap", "expiring", "--within", &v]);
        prop_assert_eq!(parsed.is_ok(), (0..=30).contains(&n), "--within {}", v);
    }
}
