//! The matrix guards itself: every route defined in src/web must be in the matrix (or listed as
//! public with a reason), and every route in the matrix must still exist. A new route cannot
//! slip through untested, and a renamed one cannot leave the matrix testing nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::helpers::Backend;
use crate::matrix::{PUBLIC_ROUTES, cases};
use crate::world::World;

const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

type Route = (String, String);

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src/web") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The text between the first pair of double quotes in `text`.
fn first_quoted(text: &str) -> Option<&str> {
    let start = text.find('"')? + 1;
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}

/// Routes from attribute macros: `#[get("/path")]`, and `#[route("/path", method = "GET")]`.
fn attribute_routes(source: &str, routes: &mut BTreeSet<Route>) {
    for line in source.lines().map(str::trim) {
        for method in METHODS {
            if let Some(rest) = line.strip_prefix(&format!("#[{method}(")) {
                let path = first_quoted(rest).expect("a path in the route attribute");
                routes.insert((method.to_uppercase(), path.to_owned()));
            }
        }
        if let Some(rest) = line.strip_prefix("#[route(") {
            let path = first_quoted(rest).expect("a path in #[route]");
            for part in rest.split("method").skip(1) {
                let method = first_quoted(part).expect("a quoted method");
                routes.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
}

/// Routes from `web::resource("/path").route(web::get().to(…))…`: the methods named between one
/// `web::resource(` and the next.
fn resource_routes(source: &str, routes: &mut BTreeSet<Route>) {
    let mut pieces = source.split("web::resource(");
    pieces.next();
    for piece in pieces {
        let path = first_quoted(piece).expect("a path in web::resource");
        for method in METHODS {
            if piece.contains(&format!("web::{method}()")) {
                routes.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
}

/// Ways to define routes that this scan does not read; if one appears, the scan must learn it
/// before the guard can vouch for the matrix.
const UNREAD_FORMS: [&str; 4] = ["web::scope(", ".route(\"", "web::route()", "web::service("];

fn routes_in_source() -> BTreeSet<Route> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut routes = BTreeSet::new();
    for file in rust_files(&web) {
        let source = std::fs::read_to_string(&file).unwrap();
        for form in UNREAD_FORMS {
            assert!(
                !source.contains(form),
                "{} defines routes with `{form}`, which the route guard does not read yet: teach \
                 tests/access/route_guard.rs, then add the routes to the matrix",
                file.display()
            );
        }
        attribute_routes(&source, &mut routes);
        resource_routes(&source, &mut routes);
    }
    routes
}

#[test]
fn the_scan_reads_both_ways_of_defining_routes() {
    let mut routes = BTreeSet::new();
    attribute_routes(
        "#[get(\"/a/{id}\")]\nasync fn a() {}\n    #[post(\"/b\")]\n#[route(\"/c\", method = \"GET\", method = \"PUT\")]",
        &mut routes,
    );
    resource_routes(
        "cfg.service(web::resource(\"/d\").route(web::get().to(x)).route(web::post().to(y)))\
         .service(web::resource(\"/e\").route(web::head().to(z)));",
        &mut routes,
    );
    let expected: BTreeSet<Route> = [
        ("GET", "/a/{id}"),
        ("POST", "/b"),
        ("GET", "/c"),
        ("PUT", "/c"),
        ("GET", "/d"),
        ("POST", "/d"),
        ("HEAD", "/e"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(routes, expected);
}

#[actix_web::test]
async fn every_route_in_src_web_is_in_the_matrix() {
    // The table needs a world for its ids; SQLite is enough to list the routes.
    let world = World::build(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let in_matrix: BTreeSet<Route> = cases(&world)
        .iter()
        .map(|c| (c.method.to_owned(), c.route.to_owned()))
        .collect();
    let public: BTreeSet<Route> = PUBLIC_ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert!(
        in_matrix.is_disjoint(&public),
        "a route is both public and in the matrix: {:?}",
        in_matrix.intersection(&public).collect::<Vec<_>>()
    );
    let known: BTreeSet<Route> = in_matrix.union(&public).cloned().collect();
    let defined = routes_in_source();
    assert!(defined.len() > 20, "the scan found only {defined:?}");
    let untested: Vec<_> = defined.difference(&known).collect();
    assert!(
        untested.is_empty(),
        "routes in src/web that the access matrix does not cover (add cases to \
         tests/access/matrix.rs, or to PUBLIC_ROUTES with a reason): {untested:?}"
    );
    let gone: Vec<_> = known.difference(&defined).collect();
    assert!(
        gone.is_empty(),
        "the matrix lists routes that no longer exist: {gone:?}"
    );
}
