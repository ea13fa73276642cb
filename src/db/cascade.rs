//! The cascade rule of `domain::suppression`, as SQL, written once: an active opt-out blocks
//! mail from a sender when it is in the sender's group and its `(level, scope_id)` names the
//! sender's group, client or user. Every query that decides suppression builds its condition
//! from here, so none can drift from the rule (the oracle test in `tests/app/suppression.rs`
//! checks each against `domain::suppression`).

use crate::domain::Level;

/// The condition on `opt_outs` as a diesel expression. `$group`, `$client` and `$user` are the
/// sender's ids, either values (`GroupId`, …) or nullable expressions over a joined table
/// (`contacts::group_id.nullable()`, `messages::client_id`, …). Both sides are compared as
/// nullable so one form serves values and columns of either nullability; the SQL is the same.
///
/// A macro, not a function: the expression keeps its concrete type in each query, so the
/// queries run on the backend's own connection (`on_each_backend!`) still find their prepared
/// statement by type.
macro_rules! blocks_sender {
    ($group:expr, $client:expr, $user:expr $(,)?) => {{
        use $crate::db::schema::opt_outs;
        use $crate::domain::Level;
        opt_outs::group_id.nullable().eq($group).and(
            (opt_outs::level
                .eq(Level::Group)
                .and(opt_outs::scope_id.nullable().eq($group)))
            .or(opt_outs::level
                .eq(Level::Client)
                .and(opt_outs::scope_id.nullable().eq($client)))
            .or(opt_outs::level
                .eq(Level::User)
                .and(opt_outs::scope_id.nullable().eq($user))),
        )
    }};
}
pub(crate) use blocks_sender;

/// The same condition as SQL text, for the queries written by hand: `o` is the opt-outs
/// table's alias, `group`, `client` and `user` the SQL (placeholders or columns) giving the
/// sender's ids. `group` appears twice, first in the group filter: bind it twice, in order.
pub(crate) fn blocks_sender_sql(group: &str, client: &str, user: &str) -> String {
    format!(
        "o.group_id = {group}
         AND ((o.level = '{g}' AND o.scope_id = {group})
           OR (o.level = '{c}' AND o.scope_id = {client})
           OR (o.level = '{u}' AND o.scope_id = {user}))",
        g = Level::Group.as_str(),
        c = Level::Client.as_str(),
        u = Level::User.as_str(),
    )
}

/// The broadest blocking level of a group of opt-out rows `o` as a rank, 0 = group, 1 =
/// client, 2 = user (the order of `Level::ALL`). Cast: PostgreSQL would otherwise return a
/// 4-byte integer.
pub(crate) fn broadest_rank_sql() -> String {
    format!(
        "CAST(MIN(CASE o.level WHEN '{g}' THEN 0 WHEN '{c}' THEN 1 ELSE 2 END) AS BIGINT)",
        g = Level::Group.as_str(),
        c = Level::Client.as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rank_follows_the_order_of_the_levels() {
        assert_eq!(Level::ALL, [Level::Group, Level::Client, Level::User]);
        assert!(broadest_rank_sql().contains("WHEN 'group' THEN 0 WHEN 'client' THEN 1"));
    }
}
