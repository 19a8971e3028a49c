//! Which chain to talk to: btcli's network names and endpoints, or a URL.
//!
//! `finney`, `test`, `archive` and `local` resolve to the endpoints the
//! bittensor SDK and btcli use (`local` honours `BT_SUBTENSOR_CHAIN_ENDPOINT`
//! like they do); anything starting with `ws://` or `wss://` is used as given.
//! `--chain-endpoint` overrides the URL of a named network while keeping its
//! expected genesis hash, so a node of the wrong network is refused.

use std::fmt;

/// btcli's endpoints (bittensor `settings.py`).
pub const FINNEY_ENDPOINT: &str = "wss://entrypoint-finney.opentensor.ai:443";
pub const TEST_ENDPOINT: &str = "wss://test.finney.opentensor.ai:443";
pub const ARCHIVE_ENDPOINT: &str = "wss://archive.chain.opentensor.ai:443";
pub const LOCAL_ENDPOINT: &str = "ws://127.0.0.1:9944";
/// The SDK's override for the `local` endpoint.
pub const ENV_LOCAL_ENDPOINT: &str = "BT_SUBTENSOR_CHAIN_ENDPOINT";

/// Genesis hash of the Bittensor main network (finney and its archive nodes).
pub const FINNEY_GENESIS: [u8; 32] =
    hex_literal("2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03");
/// Genesis hash of the Bittensor test network.
pub const TEST_GENESIS: [u8; 32] =
    hex_literal("8f9cf856bf558a14440e75569c9e58594757048d7b3a84b5d25f6bd978263105");

/// A network as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    Finney,
    Test,
    Archive,
    Local,
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network '{0}': use finney, test, archive, local, or a ws:// or wss:// URL")]
pub struct UnknownNetwork(pub String);

impl std::str::FromStr for Network {
    type Err = UnknownNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "finney" => Ok(Network::Finney),
            "test" => Ok(Network::Test),
            "archive" => Ok(Network::Archive),
            "local" => Ok(Network::Local),
            url if (url.starts_with("ws://") || url.starts_with("wss://"))
                && url.len() > "wss://".len() =>
            {
                Ok(Network::Url(url.to_string()))
            }
            other => Err(UnknownNetwork(other.to_string())),
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::Finney => f.write_str("finney"),
            Network::Test => f.write_str("test"),
            Network::Archive => f.write_str("archive"),
            Network::Local => f.write_str("local"),
            Network::Url(u) => f.write_str(u),
        }
    }
}

/// Where to connect and which chain to expect there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub network: Network,
    pub url: String,
    /// The genesis hash the node must report (known networks only).
    pub expected_genesis: Option<[u8; 32]>,
}

impl Network {
    /// The endpoint of this network; `override_url` (btcli's
    /// `--chain-endpoint`) replaces the URL but not the expected genesis;
    /// `env` reads `BT_SUBTENSOR_CHAIN_ENDPOINT` for `local`.
    pub fn endpoint(
        &self,
        override_url: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Endpoint {
        let (url, expected_genesis) = match self {
            Network::Finney => (FINNEY_ENDPOINT.to_string(), Some(FINNEY_GENESIS)),
            Network::Archive => (ARCHIVE_ENDPOINT.to_string(), Some(FINNEY_GENESIS)),
            Network::Test => (TEST_ENDPOINT.to_string(), Some(TEST_GENESIS)),
            Network::Local => (
                env(ENV_LOCAL_ENDPOINT)
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| LOCAL_ENDPOINT.to_string()),
                None,
            ),
            Network::Url(u) => (u.clone(), None),
        };
        Endpoint {
            network: self.clone(),
            url: override_url.map(str::to_string).unwrap_or(url),
            expected_genesis,
        }
    }
}

const fn hex_literal(s: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (digit(b[2 * i]) << 4) | digit(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls_parse() {
        assert_eq!("finney".parse::<Network>().unwrap(), Network::Finney);
        assert_eq!("test".parse::<Network>().unwrap(), Network::Test);
        assert_eq!(
            "wss://x.example:443".parse::<Network>().unwrap(),
            Network::Url("wss://x.example:443".into())
        );
        assert!("http://x".parse::<Network>().is_err());
        assert!("ws://".parse::<Network>().is_err());
        assert!("mainnet".parse::<Network>().is_err());
    }

    #[test]
    fn endpoints_follow_btcli() {
        let none = |_: &str| None;
        let f = Network::Finney.endpoint(None, none);
        assert_eq!(f.url, FINNEY_ENDPOINT);
        assert_eq!(f.expected_genesis, Some(FINNEY_GENESIS));
        assert_eq!(FINNEY_GENESIS[0], 0x2f);
        assert_eq!(TEST_GENESIS[31], 0x05);
        let local = Network::Local.endpoint(None, |k| {
            (k == ENV_LOCAL_ENDPOINT).then(|| "ws://10.0.0.1:9944".to_string())
        });
        assert_eq!(local.url, "ws://10.0.0.1:9944");
        assert_eq!(local.expected_genesis, None);
        let over = Network::Test.endpoint(Some("ws://127.0.0.1:1"), none);
        assert_eq!(over.url, "ws://127.0.0.1:1");
        assert_eq!(over.expected_genesis, Some(TEST_GENESIS));
    }
}
