//! MSK IAM tokens compared with AWS's own signer. The expected tokens were made by
//! `aws-msk-iam-sasl-signer-python` 1.0.2 (botocore 1.44.8) with its clock fixed at
//! 2026-12-03T07:30:00Z and the same credentials; the User-Agent is the one it appends.

use super::*;

const AT: u64 = 1_796_283_000; // 2026-12-03T07:30:00Z
const PY_UA: &str = "aws-msk-iam-sasl-signer-python/1.0.2";

fn long_term() -> Credentials {
    Credentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    }
}

fn temporary() -> Credentials {
    Credentials {
        access_key_id: "ASIAXAMPLEKEY".into(),
        secret_access_key: "secret/with+chars=".into(),
        session_token: Some("FwoGZXIvYXdzE+session/token=".into()),
    }
}

#[test]
fn tokens_equal_the_aws_signers() {
    let cases = [
        ("us-east-1", long_term(), 1796283900000_i64, "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJQUlPU0ZPRE5ON0VYQU1QTEUlMkYyMDI2MTIwMyUyRnVzLWVhc3QtMSUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1BbXotRGF0ZT0yMDI2MTIwM1QwNzMwMDBaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCZYLUFtei1TaWduYXR1cmU9MzEzMWMxMjRjMzI0OWNmNzQ4NDU4NjljMzJkYTQ3ZmNlNzE4ZjVkMzI2MDVjMjQ3YmY2YzFhNWE3MzUwYTYzOSZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y"),
        ("eu-west-2", long_term(), 1796283900000_i64, "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTIuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJQUlPU0ZPRE5ON0VYQU1QTEUlMkYyMDI2MTIwMyUyRmV1LXdlc3QtMiUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1BbXotRGF0ZT0yMDI2MTIwM1QwNzMwMDBaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCZYLUFtei1TaWduYXR1cmU9M2Q2ZWJlMDZlODVmN2NlZWFhNTY1OGRjNDU4ZWIwMGY3NWUyMjA4N2UwNTU4ZDM1ZjBhYTlmNmVmMDgwYWMwZiZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y"),
        ("us-east-1", temporary(), 1796283900000_i64, "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QVNJQVhBTVBMRUtFWSUyRjIwMjYxMjAzJTJGdXMtZWFzdC0xJTJGa2Fma2EtY2x1c3RlciUyRmF3czRfcmVxdWVzdCZYLUFtei1EYXRlPTIwMjYxMjAzVDA3MzAwMFomWC1BbXotRXhwaXJlcz05MDAmWC1BbXotU2lnbmVkSGVhZGVycz1ob3N0JlgtQW16LVNlY3VyaXR5LVRva2VuPUZ3b0daWEl2WVhkekUlMkJzZXNzaW9uJTJGdG9rZW4lM0QmWC1BbXotU2lnbmF0dXJlPTAzOTQ0ZmM2ZDBiMDI4MGNkYjk4ZGRlZjI1NWUzNGY0OWZlMTQ1NTM4MzEwZGEyNDNkMzBlMjBjYmQ4YTQwYTEmVXNlci1BZ2VudD1hd3MtbXNrLWlhbS1zYXNsLXNpZ25lci1weXRob24lMkYxLjAuMg"),
        ("eu-west-2", temporary(), 1796283900000_i64, "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTIuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QVNJQVhBTVBMRUtFWSUyRjIwMjYxMjAzJTJGZXUtd2VzdC0yJTJGa2Fma2EtY2x1c3RlciUyRmF3czRfcmVxdWVzdCZYLUFtei1EYXRlPTIwMjYxMjAzVDA3MzAwMFomWC1BbXotRXhwaXJlcz05MDAmWC1BbXotU2lnbmVkSGVhZGVycz1ob3N0JlgtQW16LVNlY3VyaXR5LVRva2VuPUZ3b0daWEl2WVhkekUlMkJzZXNzaW9uJTJGdG9rZW4lM0QmWC1BbXotU2lnbmF0dXJlPTJjOTM2NjA5MzUwY2JmY2M1Y2NiYTY4YTZjNjhjZjIyZjgyODA0NmE2NzVjZmMyMmM2YWE0MGY0ZmQzN2ZjMDQmVXNlci1BZ2VudD1hd3MtbXNrLWlhbS1zYXNsLXNpZ25lci1weXRob24lMkYxLjAuMg"),
    ];
    for (region, creds, expires_ms, expected) in cases {
        let t = sign_token(region, &creds, AT, PY_UA);
        assert_eq!(t.value, expected, "{region} {}", creds.access_key_id);
        assert_eq!(t.expires_ms, expires_ms);
        assert_eq!(t.principal, creds.access_key_id);
    }
}

#[test]
fn token_is_an_unpadded_base64url_presigned_connect_url() {
    use base64::Engine;
    let t = sign_token("eu-central-1", &temporary(), AT + 59, "rowtide/9.9.9");
    assert!(!t.value.contains('=') && !t.value.contains('+') && !t.value.contains('/'));
    let url = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&t.value)
            .unwrap(),
    )
    .unwrap();
    assert!(
        url.starts_with(
            "https://kafka.eu-central-1.amazonaws.com/?Action=kafka-cluster%3AConnect&"
        ),
        "{url}"
    );
    for part in [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=ASIAXAMPLEKEY%2F20261203%2Feu-central-1%2Fkafka-cluster%2Faws4_request",
        "X-Amz-Date=20261203T073059Z",
        "X-Amz-Expires=900",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Security-Token=FwoGZXIvYXdzE%2Bsession%2Ftoken%3D",
    ] {
        assert!(url.contains(part), "{part} missing in {url}");
    }
    let sig = url.split("X-Amz-Signature=").nth(1).unwrap();
    let (sig, ua) = sig.split_once('&').unwrap();
    assert_eq!(sig.len(), 64);
    assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(ua, "User-Agent=rowtide%2F9.9.9");
    assert_eq!(t.expires_ms, (AT + 59 + 900) as i64 * 1000);
}

#[test]
fn the_user_agent_is_not_signed() {
    let a = sign_token("us-east-1", &long_term(), AT, "a");
    let b = sign_token("us-east-1", &long_term(), AT, "b");
    let sig = |t: &Token| {
        use base64::Engine;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&t.value)
            .unwrap();
        let url = String::from_utf8(url).unwrap();
        url.split("X-Amz-Signature=").nth(1).unwrap()[..64].to_string()
    };
    assert_eq!(sig(&a), sig(&b));
    assert_ne!(a.value, b.value);
}

#[test]
fn hmac_sha256_matches_rfc_4231() {
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hex::encode(hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn shared_credentials_file_profiles() {
    let text = "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n\
                aws_secret_access_key=s1\n\n[ci]\naws_access_key_id=AKIDCI\n\
                aws_secret_access_key = s2\naws_session_token = tok\n[broken]\n\
                aws_access_key_id=only-id\n";
    let d = profile_credentials(text, "default").unwrap();
    assert_eq!(
        (d.access_key_id.as_str(), d.secret_access_key.as_str()),
        ("AKIDDEFAULT", "s1")
    );
    assert!(d.session_token.is_none());
    let c = profile_credentials(text, "ci").unwrap();
    assert_eq!(c.session_token.as_deref(), Some("tok"));
    assert!(profile_credentials(text, "broken").is_none());
    assert!(profile_credentials(text, "missing").is_none());
}

fn sink(mech: Option<&str>, region: Option<&str>) -> SinkConfig {
    let mut cfg = SinkConfig::default();
    if let Some(m) = mech {
        cfg.kafka.insert("sasl.mechanism".into(), m.into());
    }
    cfg.aws_region = region.map(str::to_string);
    cfg
}

#[test]
fn selected_by_the_mechanism_and_needs_a_valid_region() {
    assert!(MskIam::from_config(&sink(None, Some("eu-west-1")))
        .unwrap()
        .is_none());
    assert!(MskIam::from_config(&sink(Some("SCRAM-SHA-512"), None))
        .unwrap()
        .is_none());
    let m = MskIam::from_config(&sink(Some("aws_msk_iam"), Some("eu-west-1"))).unwrap();
    assert_eq!(m.unwrap().region, "eu-west-1");
    let bad = MskIam::from_config(&sink(Some("AWS_MSK_IAM"), Some("EU WEST"))).unwrap_err();
    assert!(bad.to_string().contains("sink.aws_region"), "{bad}");
}
