//! `row!`: a struct whose fields are read from a query's columns of the same
//! names, on either backend — what `#[derive(sqlx::FromRow)]` did, without
//! sqlx's proc macro (whose crate compiles both database drivers a second
//! time for the compiler; see `migrations.rs`).

/// Declares the struct and implements `sqlx::FromRow` for any row type
/// whose columns decode into its fields. Fields in a trailing
/// `flatten { … }` are rows of their own read from the same columns
/// (`#[sqlx(flatten)]`).
macro_rules! row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
        $( flatten { $( $flat_vis:vis $flat:ident : $flat_ty:ty ),* $(,)? } )?
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
            $( $( $flat_vis $flat: $flat_ty, )* )?
        }

        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $name
        where
            &'r str: sqlx::ColumnIndex<R>,
            $( $ty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>, )*
            $( $( $flat_ty: sqlx::FromRow<'r, R>, )* )?
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                Ok(Self {
                    $( $field: row.try_get(stringify!($field))?, )*
                    $( $( $flat: <$flat_ty as sqlx::FromRow<'r, R>>::from_row(row)?, )* )?
                })
            }
        }
    };
}

pub(crate) use row;
