//! `optouts bench-data`: fills the database with a large generated data set for the benchmarks
//! (see `crate::seed::bench_data`), and writes the unsubscribe links of its messages for HTTP load.

use anyhow::Context;
use secrecy::SecretString;
use std::io::Write;
use std::time::Instant;

use crate::cli::BenchDataArgs;
use crate::config::Config;
use crate::passwords;
use crate::seed::bench_data::{self, BENCH_PASSWORD, BenchDataSpec};
use crate::startup::prepare_database;

pub fn run(config: &Config, args: BenchDataArgs) -> anyhow::Result<()> {
    let spec = BenchDataSpec {
        groups: args.groups,
        clients_per_group: args.clients_per_group,
        users_per_client: args.users_per_client,
        contacts: args.contacts,
        opt_outs: args.opt_outs,
        messages: args.messages,
    };
    let pool = prepare_database(config)?;
    let mut conn = pool.get()?;
    // One hash for every generated login: hashing is deliberately slow.
    let password_hash = passwords::hash(&SecretString::from(BENCH_PASSWORD))?;
    let started = Instant::now();
    let data = bench_data::generate(&mut conn, &spec, &password_hash, |step, rows| {
        eprintln!(
            "{step:>15}: {rows} rows ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    })?;
    if let Some(path) = &args.tokens_out {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        for message in &data.messages {
            writeln!(
                out,
                "/u/{}",
                config.signing_keys.unsubscribe_token(*message)
            )?;
        }
        out.flush()?;
    }
    println!(
        "Made {} groups, {} clients, {} logins (password {BENCH_PASSWORD}), {} contacts, \
         {} opt-outs with their events and {} sent messages in {:.1} s.",
        spec.groups,
        spec.clients(),
        spec.users(),
        spec.contacts,
        spec.opt_outs,
        data.messages.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.tokens_out {
        println!("Unsubscribe link paths: {}", path.display());
    }
    Ok(())
}
