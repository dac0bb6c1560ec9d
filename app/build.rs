// `storage/migrations.rs` embeds ../migrations/{sqlite,postgres} with `include_str!`; rebuild when a file
// is added there too, so its test sees the new file.
fn main() {
    println!("cargo:rerun-if-changed=../migrations/sqlite");
    println!("cargo:rerun-if-changed=../migrations/postgres");
}
