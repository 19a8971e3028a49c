//! `leoma-gpu weights`: what the chain says (`show`), one update (`set`), and
//! the validator's epoch loop (`loop`), through subxt.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use leoma_gpu::chain::client::{connect, Chain};
use leoma_gpu::chain::epochs::{self, BurnPolicy, Decision, Plan, Target, DEFAULT_EPOCH_LEN};
use leoma_gpu::chain::metagraph::Snapshot;
use leoma_gpu::chain::network::Network;
use leoma_gpu::chain::set_weights::{self, SubmitOptions};
use leoma_gpu::chain::wallet::{load_hotkey, Hotkey, WalletOptions, WalletSpec};
use leoma_gpu::chain::ChainError;
use serde::Serialize;

use super::{output, CliError, Format, EXIT_OK};

#[derive(Subcommand, Debug)]
pub enum WeightsCommand {
    /// What the chain says now: the subnet's rules, our uid, permit, last
    /// update and current weights, and whether an update is due.
    Show(ShowArgs),
    /// Set all weight on one miner now (or commit it, where commit-reveal is
    /// on). Reads the chain first; --dry-run prints the call and submits nothing.
    Set(SetArgs),
    /// The validator's loop: every epoch (EPOCH_LEN blocks since our last
    /// update on chain), set all weight on the current winner.
    Loop(LoopArgs),
}

/// Where the chain is and who we are.
#[derive(Args, Debug)]
pub struct ChainArgs {
    /// finney, test, archive, local (ws://127.0.0.1:9944 or
    /// BT_SUBTENSOR_CHAIN_ENDPOINT), or a ws:// / wss:// URL.
    #[arg(
        long,
        env = "NETWORK",
        default_value = "finney",
        value_name = "NAME_OR_URL"
    )]
    pub network: String,
    /// Connect here instead of the network's endpoint, still expecting that
    /// network's genesis hash (btcli's --chain_endpoint).
    #[arg(long, env = "LEOMA_CHAIN_ENDPOINT", value_name = "URL")]
    pub chain_endpoint: Option<String>,
    /// The subnet.
    #[arg(long, env = "NETUID", default_value_t = 99)]
    pub netuid: u16,
    /// Wallets directory (default BT_WALLET_PATH or ~/.bittensor/wallets).
    #[arg(long, value_name = "DIR")]
    pub wallet_path: Option<PathBuf>,
    /// Wallet (coldkey) name (default WALLET_NAME, BT_WALLET_NAME or "default").
    #[arg(long, value_name = "NAME")]
    pub wallet_name: Option<String>,
    /// Hotkey name (default HOTKEY_NAME, BT_WALLET_HOTKEY or "default").
    #[arg(long, value_name = "NAME")]
    pub wallet_hotkey: Option<String>,
    /// A file holding the hotkey's seed (0x + 64 hex digits) instead of the
    /// wallet; or set LEOMA_HOTKEY_SEED.
    #[arg(long, value_name = "FILE")]
    pub hotkey_seed_file: Option<PathBuf>,
    /// Seconds to wait for the node when connecting.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub connect_timeout: u64,
}

/// How to build and submit.
#[derive(Args, Debug)]
pub struct TxArgs {
    /// Transaction mortality in blocks (0: immortal).
    #[arg(long, default_value_t = 128, value_name = "BLOCKS")]
    pub mortality: u64,
    /// Seconds to wait for inclusion in a block.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub inclusion_timeout: u64,
    /// Seconds per block, to turn the reveal block into a drand round
    /// (the SDK's block_time).
    #[arg(long, default_value_t = 12.0, value_name = "SECONDS")]
    pub block_time: f64,
    /// Blocks between updates (Leoma's EPOCH_LEN).
    #[arg(long, env = "EPOCH_LEN", default_value_t = DEFAULT_EPOCH_LEN, value_name = "BLOCKS")]
    pub epoch_len: u64,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    #[arg(long, env = "EPOCH_LEN", default_value_t = DEFAULT_EPOCH_LEN, value_name = "BLOCKS")]
    pub epoch_len: u64,
    /// Output format (json or table).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

#[derive(Args, Debug)]
#[group(id = "target", required = true, multiple = false)]
pub struct TargetArgs {
    /// The winner's hotkey (SS58); its uid is read from the chain.
    #[arg(long, value_name = "HOTKEY", group = "target")]
    pub winner: Option<String>,
    /// A uid (0 burns the emission).
    #[arg(long, value_name = "UID", group = "target")]
    pub uid: Option<u16>,
    /// A `leoma-gpu rank` JSON output (re-read every epoch by `loop`): its
    /// `winner.hotkey` (the uid is read from the chain) or, when `winner` is
    /// null, its `reason`.
    #[arg(long, value_name = "FILE.json", group = "target")]
    pub winner_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub tx: TxArgs,
    /// Print the decoded call and the signed transaction; submit nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format (json or table).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct LoopArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub tx: TxArgs,
    /// Put all weight on uid 0 (burn) when there is no winner or it is not
    /// in the metagraph; otherwise such an epoch sets nothing (logged).
    #[arg(long, env = "LEOMA_BURN_ON_NO_WINNER")]
    pub burn_on_no_winner: bool,
    /// Seconds between looks at the chain.
    #[arg(long, default_value_t = 12.0, value_name = "SECONDS")]
    pub poll_seconds: f64,
    /// Stop after this many successful updates (default: never).
    #[arg(long, value_name = "N")]
    pub max_updates: Option<u64>,
}

pub fn run(cmd: WeightsCommand) -> Result<u8, CliError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the async runtime: {e}")))?;
    match cmd {
        WeightsCommand::Show(a) => rt.block_on(show(a)),
        WeightsCommand::Set(a) => rt.block_on(set(a)),
        WeightsCommand::Loop(a) => rt.block_on(run_loop(a)),
    }
}

fn chain_err(e: ChainError) -> CliError {
    if e.is_input() {
        CliError::Input(e.to_string())
    } else {
        CliError::Chain(e.to_string())
    }
}

impl ChainArgs {
    fn hotkey(&self) -> Result<Hotkey, CliError> {
        let opts = WalletOptions {
            wallet_path: self.wallet_path.clone(),
            wallet_name: self.wallet_name.clone(),
            hotkey_name: self.wallet_hotkey.clone(),
            hotkey_seed_file: self.hotkey_seed_file.clone(),
        };
        let spec = WalletSpec::from_env(&opts).map_err(|e| CliError::Input(e.to_string()))?;
        load_hotkey(&spec).map_err(|e| CliError::Input(e.to_string()))
    }

    async fn connect(&self) -> Result<Chain, CliError> {
        let network: Network =
            self.network
                .parse()
                .map_err(|e: leoma_gpu::chain::network::UnknownNetwork| {
                    CliError::Input(e.to_string())
                })?;
        let endpoint = network.endpoint(self.chain_endpoint.as_deref(), |k| std::env::var(k).ok());
        connect(&endpoint, Duration::from_secs(self.connect_timeout.max(1)))
            .await
            .map_err(chain_err)
    }
}

impl TxArgs {
    fn submit_options(&self) -> Result<SubmitOptions, CliError> {
        if !(self.block_time.is_finite() && self.block_time > 0.0) || self.epoch_len == 0 {
            return Err(CliError::Input(
                "--block-time and --epoch-len must be positive".into(),
            ));
        }
        Ok(SubmitOptions {
            mortality_blocks: (self.mortality > 0).then_some(self.mortality),
            inclusion_timeout: Duration::from_secs(self.inclusion_timeout.max(1)),
        })
    }
}

#[derive(Serialize)]
struct ShowReport {
    network: String,
    url: String,
    genesis_hash: String,
    spec_version: u32,
    transaction_version: u32,
    subnet: leoma_gpu::chain::metagraph::SubnetState,
    validator: Option<leoma_gpu::chain::metagraph::Neuron>,
    /// Why `validator` is absent.
    validator_error: Option<String>,
    weights: Vec<(u16, u16)>,
    epoch_len: u64,
    next: Option<Decision>,
}

async fn show(a: ShowArgs) -> Result<u8, CliError> {
    let hotkey = a.chain.hotkey()?;
    let chain = a.chain.connect().await?;
    let snap = Snapshot::latest(&chain).await.map_err(chain_err)?;
    let subnet = snap.subnet(a.chain.netuid).await.map_err(chain_err)?;
    let (validator, validator_error) = match snap.our_neuron(a.chain.netuid, &hotkey.public).await {
        Ok(n) => (Some(n), None),
        Err(e @ ChainError::NotRegistered { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(chain_err(e)),
    };
    let weights = match &validator {
        Some(v) => snap
            .weights_of(a.chain.netuid, v.uid)
            .await
            .map_err(chain_err)?,
        None => Vec::new(),
    };
    let next = validator.as_ref().map(|v| {
        epochs::decide(
            subnet.block,
            v.last_update,
            a.epoch_len,
            subnet.weights_rate_limit,
        )
    });
    let report = ShowReport {
        network: chain.endpoint.network.to_string(),
        url: chain.endpoint.url.clone(),
        genesis_hash: leoma_gpu::chain::hex0x(&chain.genesis_hash.0),
        spec_version: chain.spec_version,
        transaction_version: chain.transaction_version,
        subnet,
        validator,
        validator_error,
        weights,
        epoch_len: a.epoch_len,
        next,
    };
    emit_report(a.format, &report, show_table)
}

fn show_table(r: &ShowReport) -> String {
    let s = &r.subnet;
    let mut t = format!(
        "network      {} ({})\ngenesis      {}\nruntime      spec {} / tx {}\nblock        {} ({})\n\
         subnet       {}: {} uids, tempo {}, rate limit {} blocks, version key {}, commit-reveal {} \
         (reveal after {} epochs)\n",
        r.network,
        r.url,
        r.genesis_hash,
        r.spec_version,
        r.transaction_version,
        s.block,
        s.block_hash,
        s.netuid,
        s.n,
        s.tempo,
        s.weights_rate_limit,
        s.weights_version_key,
        if s.commit_reveal_enabled { "on" } else { "off" },
        s.reveal_period_epochs
    );
    match (&r.validator, &r.validator_error) {
        (Some(v), _) => t.push_str(&format!(
            "validator    uid {} {} permit {} last update {}\n",
            v.uid,
            v.hotkey,
            if v.validator_permit { "yes" } else { "NO" },
            v.last_update
        )),
        (None, Some(e)) => t.push_str(&format!("validator    {e}\n")),
        (None, None) => {}
    }
    let w: Vec<String> = r.weights.iter().map(|(u, w)| format!("{u}:{w}")).collect();
    t.push_str(&format!("weights      [{}]\n", w.join(", ")));
    match &r.next {
        Some(Decision::Due) => t.push_str("next         due now\n"),
        Some(Decision::Wait { block, reason }) => {
            t.push_str(&format!("next         at block {block} ({reason})\n"))
        }
        None => {}
    }
    t
}

#[derive(Serialize)]
struct SetReport<'a> {
    dry_run: bool,
    plan: &'a Plan,
    signed: &'a set_weights::SignedWeights,
    included: Option<set_weights::Included>,
}

/// Plans the update at the latest block and signs it.
async fn plan_and_sign(
    chain: &Chain,
    hotkey: &Hotkey,
    netuid: u16,
    target: &Target,
    burn: BurnPolicy,
    tx: &TxArgs,
) -> Result<(Plan, set_weights::Signed), CliError> {
    let opts = tx.submit_options()?;
    let snap = Snapshot::latest(chain).await.map_err(chain_err)?;
    let plan = epochs::plan(
        chain,
        &snap,
        netuid,
        &hotkey.public,
        target,
        burn,
        tx.epoch_len,
        tx.block_time,
    )
    .await
    .map_err(chain_err)?;
    let signed = set_weights::sign(chain, hotkey, &plan.call, &opts)
        .await
        .map_err(chain_err)?;
    Ok((plan, signed))
}

async fn set(a: SetArgs) -> Result<u8, CliError> {
    let opts = a.tx.submit_options()?;
    let hotkey = a.chain.hotkey()?;
    let target = a.target.resolve()?;
    let chain = a.chain.connect().await?;
    let (plan, signed) = plan_and_sign(
        &chain,
        &hotkey,
        a.chain.netuid,
        &target,
        BurnPolicy::default(),
        &a.tx,
    )
    .await?;
    let info = signed.info.clone();
    let included = if a.dry_run {
        None
    } else {
        // `set` is an explicit request: it ignores EPOCH_LEN but not the
        // subnet's rate limit, which the chain would refuse anyway.
        let wait = epochs::rate_limit_wait(
            plan.subnet.block,
            plan.validator.last_update,
            plan.subnet.weights_rate_limit,
        );
        if wait > 0 {
            return Err(chain_err(ChainError::RateLimited {
                netuid: plan.subnet.netuid,
                last_update: plan.validator.last_update,
                limit: plan.subnet.weights_rate_limit,
                block: plan.subnet.block,
                wait,
            }));
        }
        Some(
            set_weights::submit(&chain, signed, &opts)
                .await
                .map_err(chain_err)?,
        )
    };
    let report = SetReport {
        dry_run: a.dry_run,
        plan: &plan,
        signed: &info,
        included,
    };
    emit_report(a.format, &report, set_table)
}

/// Prints `report` as JSON or as the table `table` makes of it.
fn emit_report<T: Serialize>(
    format: Format,
    report: &T,
    table: fn(&T) -> String,
) -> Result<u8, CliError> {
    let text = match format {
        Format::Table => table(report),
        Format::Json => output::to_json(report)?,
        Format::Html => {
            return Err(CliError::Input(
                "--format html is not supported by weights (use json or table)".into(),
            ))
        }
    };
    output::emit(&text, None)?;
    Ok(EXIT_OK)
}

fn set_table(r: &SetReport<'_>) -> String {
    let mut t = format!(
        "{}call         {}\nreason       {}{}\nsigner       {} (uid {}, nonce {})\nextensions   {}\ntx hash      {}\n",
        if r.dry_run { "DRY RUN: nothing submitted\n" } else { "" },
        r.signed.decoded_call,
        r.plan.reason,
        if r.plan.burn { " [BURN]" } else { "" },
        r.signed.signer,
        r.plan.validator.uid,
        r.signed.nonce,
        r.signed.extensions.join(", "),
        r.signed.tx_hash,
    );
    if let Some(inc) = &r.included {
        t.push_str(&format!(
            "included     block {}\nevents       {}\n",
            inc.block_hash,
            inc.events.join(", ")
        ));
    }
    t
}

impl TargetArgs {
    /// Who gets the weight now (a winner file is read afresh each time).
    fn resolve(&self) -> Result<Target, CliError> {
        if let Some(w) = &self.winner {
            return Ok(Target::Winner(w.trim().to_string()));
        }
        if let Some(u) = self.uid {
            return Ok(Target::Uid(u));
        }
        let path = self
            .winner_file
            .as_deref()
            .ok_or_else(|| CliError::Input("give --winner, --uid or --winner-file".into()))?;
        winner_from_rank_file(path)
    }
}

fn winner_from_rank_file(path: &Path) -> Result<Target, CliError> {
    #[derive(serde::Deserialize)]
    struct RankWinner {
        hotkey: String,
    }
    #[derive(serde::Deserialize)]
    struct RankFile {
        winner: Option<RankWinner>,
        #[serde(default)]
        reason: String,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))?;
    let parsed: RankFile = serde_json::from_str(&text).map_err(|e| {
        CliError::Input(format!(
            "{}: not a `leoma-gpu rank` JSON output: {e}",
            path.display()
        ))
    })?;
    Ok(match parsed.winner {
        Some(w) => Target::Winner(w.hotkey),
        None => Target::NoWinner(if parsed.reason.is_empty() {
            format!("{} names no winner", path.display())
        } else {
            parsed.reason
        }),
    })
}

async fn run_loop(a: LoopArgs) -> Result<u8, CliError> {
    let opts = a.tx.submit_options()?;
    if !(a.poll_seconds.is_finite() && a.poll_seconds > 0.0) {
        return Err(CliError::Input("--poll-seconds must be positive".into()));
    }
    let poll = Duration::from_secs_f64(a.poll_seconds);
    let hotkey = a.chain.hotkey()?;
    let burn = BurnPolicy {
        when_no_winner: a.burn_on_no_winner,
    };
    let netuid = a.chain.netuid;
    // The first connection must work: a wrong network or netuid is a
    // configuration error, not something to retry forever.
    let mut chain = Some(a.chain.connect().await?);
    {
        let c = chain.as_ref().expect("just connected");
        let snap = Snapshot::latest(c).await.map_err(chain_err)?;
        snap.subnet(netuid).await.map_err(chain_err)?;
        snap.our_neuron(netuid, &hotkey.public)
            .await
            .map_err(chain_err)?;
    }
    tracing::info!(netuid, hotkey = %hotkey.ss58, epoch_len = a.tx.epoch_len, "weights loop started");
    let mut updates = 0u64;
    let mut failures = 0u32;
    let mut not_before_block = 0u64;
    loop {
        if a.max_updates.is_some_and(|m| updates >= m) {
            tracing::info!(updates, "stopping after --max-updates");
            return Ok(EXIT_OK);
        }
        let c = match &chain {
            Some(c) => c,
            None => match a.chain.connect().await {
                Ok(c) => chain.insert(c),
                Err(e) => {
                    tracing::error!("{e}; retrying");
                    tokio::time::sleep(poll).await;
                    continue;
                }
            },
        };
        match epoch_step(c, &a, &hotkey, burn, &opts, not_before_block).await {
            Ok(StepOutcome::Updated { block }) => {
                updates += 1;
                failures = 0;
                tracing::info!(block, updates, "weights updated");
            }
            Ok(StepOutcome::Waiting) => {}
            Err(StepError::Connection(e)) => {
                tracing::error!("{e}; reconnecting");
                chain = None;
            }
            Err(StepError::Failed { block, error }) => {
                // Back off like Leoma's era-2 validator: min(2^failures, 20) blocks.
                failures = failures.saturating_add(1);
                let backoff = 2u64.saturating_pow(failures).min(20);
                not_before_block = block + backoff;
                tracing::error!(
                    "weights update failed: {error}; next try not before block {not_before_block}"
                );
            }
        }
        tokio::time::sleep(poll).await;
    }
}

enum StepOutcome {
    Updated { block: u64 },
    Waiting,
}

enum StepError {
    Connection(String),
    Failed { block: u64, error: String },
}

/// One look at the chain: act when due.
async fn epoch_step(
    chain: &Chain,
    a: &LoopArgs,
    hotkey: &Hotkey,
    burn: BurnPolicy,
    opts: &SubmitOptions,
    not_before_block: u64,
) -> Result<StepOutcome, StepError> {
    let conn = |e: ChainError| StepError::Connection(e.to_string());
    let snap = Snapshot::latest(chain).await.map_err(conn)?;
    let block = snap.block;
    let subnet = snap.subnet(a.chain.netuid).await.map_err(|e| match e {
        ChainError::Read { .. } => conn(e),
        other => StepError::Failed {
            block,
            error: other.to_string(),
        },
    })?;
    let me = snap
        .our_neuron(a.chain.netuid, &hotkey.public)
        .await
        .map_err(|e| StepError::Failed {
            block,
            error: e.to_string(),
        })?;
    match epochs::decide(
        block,
        me.last_update,
        a.tx.epoch_len,
        subnet.weights_rate_limit,
    ) {
        Decision::Wait { block: at, reason } => {
            tracing::debug!(block, next = at, "{reason}");
            return Ok(StepOutcome::Waiting);
        }
        Decision::Due if block < not_before_block => {
            tracing::debug!(block, not_before_block, "backing off after a failure");
            return Ok(StepOutcome::Waiting);
        }
        Decision::Due => {}
    }
    let failed = |error: String| StepError::Failed { block, error };
    let target = a.target.resolve().map_err(|e| failed(e.to_string()))?;
    let (plan, signed) = plan_and_sign(chain, hotkey, a.chain.netuid, &target, burn, &a.tx)
        .await
        .map_err(|e| failed(e.to_string()))?;
    tracing::info!(
        block,
        call = plan.call.name(),
        uid = plan.target_uid,
        burn = plan.burn,
        reason = %plan.reason,
        "epoch due: submitting"
    );
    match set_weights::submit(chain, signed, opts).await {
        Ok(inc) => {
            tracing::info!(block_hash = %inc.block_hash, events = ?inc.events, "included");
            Ok(StepOutcome::Updated { block })
        }
        Err(e @ (ChainError::Dropped { .. } | ChainError::Unreachable { .. })) => {
            Err(StepError::Connection(e.to_string()))
        }
        Err(e) => Err(failed(e.to_string())),
    }
}
