use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    optouts::passwords::release_big_allocations_when_freed();
    let cli = optouts::cli::Cli::parse();
    match optouts::commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
