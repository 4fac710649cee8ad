//! The guard on a virtual clock: time is whatever `Instant` a test passes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use shared::hfa::MacAddress;

use super::*;

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 20));
const PHONE_MAC: MacAddress = MacAddress([0x00, 0x1a, 0xe8, 0x01, 0x02, 0x03]);
const CLIENTS: [&str; 3] = ["201", "202", "210"];

fn guard() -> LoginGuard {
    LoginGuard::new(LockoutPolicy::default(), CLIENTS)
}

fn from(ip: IpAddr) -> Device {
    Device::new(ip, None)
}

fn home_phone() -> Device {
    Device::new(HOME, Some(PHONE_MAC))
}

fn fail_times(
    guard: &mut LoginGuard,
    now: Instant,
    n: u32,
    device: Device,
    number: &str,
) -> Vec<Lockout> {
    (0..n)
        .flat_map(|_| guard.record_failure(now, device, number))
        .collect()
}

fn account_lock(number: &str, known: Option<Device>) -> LockTarget {
    LockTarget::Account {
        number: number.into(),
        known,
    }
}

#[test]
fn fifth_failure_locks_source_and_account_once() {
    let mut guard = guard();
    let now = Instant::now();
    assert!(fail_times(&mut guard, now, 4, from(ATTACKER), "201").is_empty());
    assert!(guard.check(now, from(ATTACKER), "201").is_ok());
    let started = guard.record_failure(now, from(ATTACKER), "201");
    assert_eq!(
        started.len(),
        2,
        "source and account both locked: {started:?}"
    );
    assert_eq!(started[0].target, LockTarget::Source(ATTACKER));
    assert_eq!(started[1].target, account_lock("201", None));
    assert_eq!(started[0].duration, Duration::from_secs(30));
    let refused = guard.check(now, from(ATTACKER), "202").unwrap_err();
    assert_eq!(refused.target, LockTarget::Source(ATTACKER));
    let refused = guard.check(now, from(HOME), "201").unwrap_err();
    assert_eq!(refused.target, account_lock("201", None));
}

#[test]
fn lockout_expires_and_the_next_one_is_longer() {
    let mut guard = guard();
    let t0 = Instant::now();
    fail_times(&mut guard, t0, 5, from(ATTACKER), "201");
    assert!(
        guard
            .check(t0 + Duration::from_secs(29), from(ATTACKER), "201")
            .is_err()
    );
    let t1 = t0 + Duration::from_secs(30);
    assert!(guard.check(t1, from(ATTACKER), "201").is_ok());
    let again = guard.record_failure(t1, from(ATTACKER), "201");
    assert_eq!(again[0].duration, Duration::from_secs(60));
    assert!(
        guard
            .check(t1 + Duration::from_secs(59), from(ATTACKER), "201")
            .is_err()
    );
    assert!(
        guard
            .check(t1 + Duration::from_secs(60), from(ATTACKER), "201")
            .is_ok()
    );
}

#[test]
fn lockout_is_capped() {
    let policy = LockoutPolicy {
        max_lockout: Duration::from_secs(100),
        ..LockoutPolicy::default()
    };
    let mut guard = LoginGuard::new(policy, CLIENTS);
    let mut now = Instant::now();
    let mut last = Duration::ZERO;
    for _ in 0..40 {
        for lockout in fail_times(&mut guard, now, 5, from(ATTACKER), "201") {
            last = lockout.duration;
        }
        now += Duration::from_secs(1000);
    }
    assert_eq!(last, Duration::from_secs(100));
}

#[test]
fn success_from_a_new_device_resets_the_count() {
    let mut guard = guard();
    let now = Instant::now();
    fail_times(&mut guard, now, 4, from(HOME), "201");
    guard.record_success(from(HOME), "201");
    assert_eq!(guard.sources.len(), 0, "the source is forgiven");
    let elsewhere = from(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 99)));
    assert!(fail_times(&mut guard, now, 4, elsewhere, "201").is_empty());
    assert!(guard.check(now, elsewhere, "201").is_ok());
}

#[test]
fn ipv6_addresses_of_one_slash_64_count_together() {
    let mut guard = guard();
    let now = Instant::now();
    for host in 1..=5u16 {
        let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, host));
        guard.record_failure(now, from(ip), &format!("2{host:02}"));
    }
    let other_host = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0xabcd, 0, 0, 99));
    assert!(matches!(
        guard
            .check(now, from(other_host), "299")
            .unwrap_err()
            .target,
        LockTarget::Source(_)
    ));
    let other_net = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
    assert!(guard.check(now, from(other_net), "299").is_ok());
}

#[test]
fn many_addresses_cannot_grow_the_tables_without_bound() {
    let policy = LockoutPolicy {
        capacity: 100,
        ..LockoutPolicy::default()
    };
    let mut guard = LoginGuard::new(policy, CLIENTS);
    let mut now = Instant::now();
    for i in 0..10_000u32 {
        let ip = IpAddr::V4(Ipv4Addr::from(0xC633_0000 + i));
        guard.record_failure(now, from(ip), &format!("{}", 1000 + i));
        now += Duration::from_millis(1);
    }
    assert_eq!(guard.sources.len(), 100);
    assert_eq!(guard.unknown_numbers.len(), 100);
    assert_eq!(
        guard.accounts.len(),
        CLIENTS.len(),
        "one per client, no more"
    );
    assert!(guard.sources.is_consistent() && guard.unknown_numbers.is_consistent());
}

/// Attack 2 of issue 11: failures for unknown numbers from fresh addresses
/// used to evict the victim's record, lock and all.
#[test]
fn a_flood_of_unknown_numbers_from_fresh_addresses_cannot_lift_a_lock() {
    let policy = LockoutPolicy {
        capacity: 100,
        ..LockoutPolicy::default()
    };
    let mut guard = LoginGuard::new(policy, CLIENTS);
    let t0 = Instant::now();
    fail_times(&mut guard, t0, 5, from(ATTACKER), "201");
    let mut now = t0;
    for i in 0..10_000u32 {
        now += Duration::from_micros(1);
        let ip = IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i));
        guard.record_failure(now, from(ip), &format!("{}", 3000 + i));
    }
    let stranger = from(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(
        guard.check(now, stranger, "201").unwrap_err().target,
        account_lock("201", None),
        "the account's lock outlives the flood"
    );
    assert_eq!(
        guard.check(now, from(ATTACKER), "202").unwrap_err().target,
        LockTarget::Source(ATTACKER),
        "a source lock outlives a flood of unlocked records"
    );
    assert!(
        guard
            .check(t0 + Duration::from_secs(30), stranger, "201")
            .is_ok(),
        "and ends on time"
    );
}

#[test]
fn a_full_table_of_lockouts_gives_up_the_one_ending_soonest() {
    let policy = LockoutPolicy {
        capacity: 2,
        max_failures: 1,
        ..LockoutPolicy::default()
    };
    let mut guard = LoginGuard::new(policy, CLIENTS);
    let t0 = Instant::now();
    let [a, b, c] = [1, 2, 3].map(|host| IpAddr::V4(Ipv4Addr::new(192, 0, 2, host)));
    guard.record_failure(t0, from(a), "999");
    // b's second lockout (60 s from t0 + 10 s) outlasts a's first (30 s).
    guard.record_failure(t0, from(b), "999");
    guard.record_failure(t0 + Duration::from_secs(10), from(b), "999");
    guard.record_failure(t0 + Duration::from_secs(20), from(c), "999");
    let now = t0 + Duration::from_secs(25);
    assert!(
        guard.check(now, from(a), "202").is_ok(),
        "a's lockout, ending first, went"
    );
    assert!(guard.check(now, from(b), "202").is_err());
    assert!(guard.check(now, from(c), "202").is_err());
    assert!(guard.sources.is_consistent());
}

/// Attack 4 of issue 11: one attacker address kept a home worker's phone
/// locked out indefinitely.
#[test]
fn the_last_registered_phone_gets_in_while_strangers_are_locked_out() {
    let mut guard = guard();
    let now = Instant::now();
    guard.record_success(home_phone(), "201");
    let started = fail_times(&mut guard, now, 5, from(ATTACKER), "201");
    assert_eq!(started[1].target, account_lock("201", Some(home_phone())));
    assert!(
        started[1].to_string().contains(
            "account 201 under attack: locked for 30 s after failed logins; only its last \
             registered device (203.0.113.20 with MAC 00:1a:e8:01:02:03) may log in"
        ),
        "{}",
        started[1]
    );
    assert!(guard.check(now, home_phone(), "201").is_ok());
    guard.record_success(home_phone(), "201");
    // Its re-registrations hand the attacker no new attempts.
    let later = now + Duration::from_secs(30);
    let relocked =
        guard.record_failure(later, from(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9))), "201");
    assert_eq!(relocked[0].target, account_lock("201", Some(home_phone())));
    assert_eq!(relocked[0].duration, Duration::from_secs(60));
    // The same address without the MAC, or the MAC from elsewhere, is a stranger.
    for stranger in [from(HOME), Device::new(ATTACKER, Some(PHONE_MAC))] {
        assert!(
            matches!(
                guard.check(later, stranger, "201").unwrap_err().target,
                LockTarget::Account { .. } | LockTarget::Source(_)
            ),
            "{stranger}"
        );
    }
}

#[test]
fn the_known_device_has_a_cap_of_its_own() {
    let mut guard = guard();
    let now = Instant::now();
    guard.record_success(home_phone(), "201");
    fail_times(&mut guard, now, 5, from(ATTACKER), "201");
    // Someone behind the home router who copied the MAC gets the usual few tries.
    let started = fail_times(&mut guard, now, 5, home_phone(), "201");
    assert!(started.iter().any(|lockout| lockout.target
        == LockTarget::KnownDevice {
            number: "201".into(),
            device: home_phone()
        }));
    assert!(guard.check(now, home_phone(), "201").is_err());
}

#[test]
fn status_names_the_accounts_under_attack_and_counts_refusals() {
    let mut guard = guard();
    let now = Instant::now();
    assert!(guard.under_attack(now).is_empty());
    guard.record_success(home_phone(), "201");
    fail_times(&mut guard, now, 5, from(ATTACKER), "201");
    for _ in 0..3 {
        let _ = guard.check(now, from(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77))), "201");
    }
    let _ = guard.check(now, home_phone(), "201");
    let later = now + Duration::from_secs(10);
    let attacked = guard.under_attack(later);
    assert_eq!(
        attacked,
        vec![AccountUnderAttack {
            number: "201".into(),
            locked_for: Duration::from_secs(20),
            lockouts: 1,
            attempts: 8,
            last_source: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77))),
            known_device: Some(home_phone()),
        }]
    );
    assert_eq!(
        attacked[0].to_string(),
        "201: strangers locked out for another 20 s (lockout 1); 8 failed or refused attempts, \
         the last from 192.0.2.77; its last registered device (203.0.113.20 with MAC \
         00:1a:e8:01:02:03) still gets in"
    );
    assert!(guard.under_attack(now + Duration::from_secs(30)).is_empty());
}

#[test]
fn an_ipv4_mapped_address_is_the_same_device() {
    let mapped = IpAddr::V6(Ipv4Addr::new(203, 0, 113, 20).to_ipv6_mapped());
    assert_eq!(Device::new(mapped, Some(PHONE_MAC)), home_phone());
}
