//! The migrations are embedded at compile time (`embed_migrations!`): rebuild when a file
//! under `migrations/` changes or a new one appears, or the binary would run without it.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
