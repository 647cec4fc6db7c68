//! A statement builder that writes each backend's placeholders.
//!
//! The `Any` driver passes SQL through untouched, so PostgreSQL needs `$1,
//! $2, …` where SQLite and MySQL take `?`. Binding through [`Sql::bind`]
//! writes the right one and keeps text and arguments in step.

use sqlx::AnyConnection;
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, Type};

use super::Backend;

/// A nullable column value, for code that handles columns generically.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Value {
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Text(None) | Value::Int(None))
    }
}

pub(crate) struct Sql {
    backend: Backend,
    text: String,
    bound: usize,
    /// The first encoding error, reported when the statement runs.
    args: Result<AnyArguments, BoxDynError>,
}

impl Sql {
    pub(crate) fn new(backend: Backend) -> Sql {
        Sql {
            backend,
            text: String::new(),
            bound: 0,
            args: Ok(AnyArguments::default()),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn push(&mut self, sql: &str) -> &mut Sql {
        self.text.push_str(sql);
        self
    }

    /// Writes a fixed word of the schema (a status or visibility name) as a
    /// literal, so that the planner sees the value even in a generic plan.
    /// Values from requests are always bound instead.
    pub(crate) fn push_word(&mut self, word: &'static str) -> &mut Sql {
        debug_assert!(word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        self.text.push('\'');
        self.text.push_str(word);
        self.text.push('\'');
        self
    }

    /// Writes a placeholder for `value`.
    pub(crate) fn bind<'t, T>(&mut self, value: T) -> &mut Sql
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        self.bound += 1;
        match self.backend {
            Backend::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.bound.to_string());
            }
            Backend::Sqlite | Backend::MySql => self.text.push('?'),
        }
        if let Ok(args) = &mut self.args
            && let Err(err) = args.add(value)
        {
            self.args = Err(err);
        }
        self
    }

    pub(crate) fn bind_value(&mut self, value: Value) -> &mut Sql {
        match value {
            Value::Text(text) => self.bind(text),
            Value::Int(int) => self.bind(int),
        }
    }

    /// Writes `column IN (…)`; an empty list matches nothing.
    pub(crate) fn push_in<'t, T, I>(&mut self, column: &str, values: I) -> &mut Sql
    where
        I: IntoIterator<Item = T>,
        T: Encode<'t, Any> + Type<Any>,
    {
        let mut values = values.into_iter().peekable();
        if values.peek().is_none() {
            return self.push("1 = 0");
        }
        self.push(column).push(" IN (");
        for (n, value) in values.enumerate() {
            if n > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    /// Writes `(…), (…)` rows for a multi-row `INSERT … VALUES`, one call of
    /// `row` per item; `row` binds that item's columns.
    pub(crate) fn push_rows<I, F>(&mut self, items: I, mut row: F) -> &mut Sql
    where
        I: IntoIterator,
        F: FnMut(&mut RowBinder<'_>, I::Item),
    {
        for (n, item) in items.into_iter().enumerate() {
            self.push(if n == 0 { "(" } else { ", (" });
            row(
                &mut RowBinder {
                    sql: self,
                    first: true,
                },
                item,
            );
            self.push(")");
        }
        self
    }

    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The statement, ready to run; fails if a value could not be encoded.
    pub(crate) fn build(
        self,
    ) -> Result<sqlx::query::Query<'static, Any, AnyArguments>, sqlx::Error> {
        let args = self.args.map_err(sqlx::Error::Encode)?;
        Ok(sqlx::query_with(AssertSqlSafe(self.text), args))
    }
}

/// Statements that run in order on one connection, inside the caller's
/// transaction, for their effects.
///
/// SQLite runs a connection's statements on a thread of its own: each
/// statement sent alone is a round trip there and back, two thread switches,
/// which cost more than a small insert does. A batch goes to SQLite as one
/// script, in one round trip. A server database takes the statements one by
/// one, as a prepared statement holds only one.
pub(crate) struct Batch {
    backend: Backend,
    statements: Vec<Sql>,
}

impl Batch {
    pub(crate) fn new(backend: Backend) -> Batch {
        Batch {
            backend,
            statements: Vec::new(),
        }
    }

    /// Starts the next statement; write it into the returned builder.
    pub(crate) fn statement(&mut self) -> &mut Sql {
        let script = self.backend == Backend::Sqlite && !self.statements.is_empty();
        if !script {
            self.statements.push(Sql::new(self.backend));
        }
        let sql = self.statements.last_mut().expect("one statement at least");
        if script {
            sql.push(";\n");
        }
        sql
    }

    /// On SQLite: the whole batch as one script, `before` and `after` around
    /// it (the statements that begin and end its transaction).
    pub(crate) fn into_sqlite_script(self, before: &str, after: &str) -> Sql {
        debug_assert_eq!(self.backend, Backend::Sqlite);
        let mut script = Sql::new(Backend::Sqlite);
        script.push(before).push(";\n");
        if let Some(body) = self.statements.into_iter().next() {
            script.text.push_str(&body.text);
            script.text.push_str(";\n");
            script.bound = body.bound;
            script.args = body.args;
        }
        script.push(after);
        script
    }

    /// Runs the statements in order; the first that fails stops the rest and
    /// its error is returned (the caller's transaction then rolls back).
    pub(crate) async fn execute(self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        for sql in self.statements {
            sql.build()?.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// Binds the values of one row of a multi-row insert, separated by commas.
pub(crate) struct RowBinder<'s> {
    sql: &'s mut Sql,
    first: bool,
}

impl RowBinder<'_> {
    pub(crate) fn bind<'t, T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'t, Any> + Type<Any>,
    {
        if !self.first {
            self.sql.push(", ");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }

    pub(crate) fn bind_value(&mut self, value: Value) -> &mut Self {
        match value {
            Value::Text(text) => self.bind(text),
            Value::Int(int) => self.bind(int),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_are_numbered_in_binding_order() {
        let mut sql = Sql::new(Backend::Postgres);
        sql.push("a = ").bind(1_i64).push(" AND b = ").bind("x");
        sql.push(" AND ").push_in("c", ["p", "q"]);
        assert_eq!(sql.text(), "a = $1 AND b = $2 AND c IN ($3, $4)");
    }

    #[test]
    fn sqlite_and_mysql_placeholders_are_question_marks() {
        for backend in [Backend::Sqlite, Backend::MySql] {
            let mut sql = Sql::new(backend);
            sql.push("a = ")
                .bind(1_i64)
                .push(" AND ")
                .push_in("c", [2_i64, 3]);
            assert_eq!(sql.text(), "a = ? AND c IN (?, ?)");
        }
    }

    #[test]
    fn empty_in_list_matches_nothing() {
        let mut sql = Sql::new(Backend::Postgres);
        sql.push_in("c", Vec::<String>::new());
        assert_eq!(sql.text(), "1 = 0");
    }

    #[test]
    fn a_batch_is_one_script_on_sqlite_only() {
        let statements = |backend| {
            let mut batch = Batch::new(backend);
            batch
                .statement()
                .push("INSERT INTO a VALUES (")
                .bind(1_i64)
                .push(")");
            batch.statement().push("DELETE FROM b WHERE c = ").bind("x");
            batch
                .statements
                .iter()
                .map(|sql| sql.text().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            statements(Backend::Sqlite),
            ["INSERT INTO a VALUES (?);\nDELETE FROM b WHERE c = ?"]
        );
        let mut batch = Batch::new(Backend::Sqlite);
        batch.statement().push("DELETE FROM b WHERE c = ").bind("x");
        assert_eq!(
            batch.into_sqlite_script("BEGIN IMMEDIATE", "COMMIT").text(),
            "BEGIN IMMEDIATE;\nDELETE FROM b WHERE c = ?;\nCOMMIT"
        );
        assert_eq!(
            statements(Backend::Postgres),
            ["INSERT INTO a VALUES ($1)", "DELETE FROM b WHERE c = $1"]
        );
    }

    #[test]
    fn multi_row_values_keep_numbering_across_rows() {
        let mut sql = Sql::new(Backend::Postgres);
        sql.push("INSERT INTO t (a, b) VALUES ");
        sql.push_rows([("x", 1_i64), ("y", 2)], |row, (a, b)| {
            row.bind(a).bind(b);
        });
        assert_eq!(sql.text(), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
    }
}
