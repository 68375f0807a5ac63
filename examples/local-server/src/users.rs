//! The example's own users (DESIGN §2: the app owns people): a `users` table beside the
//! store's tables, argon2id password hashes, and the provider's two questions about people —
//! [`Authenticator`] (password grant, login page) and [`ClaimsSource`] (ID tokens, UserInfo).

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{self, PasswordHasher, PasswordVerifier};
use async_trait::async_trait;
use portcullis_grants::{Authenticator, BoxError, ClaimsSource};
use portcullis_registry::ScopeSet;
use portcullis_store_sql::SqlStore;
use portcullis_tokens::{Subject, random_identifier};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::{PgPool, SqlitePool};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use crate::validation::FieldMessage;

/// The longest username, in characters.
pub(crate) const USERNAME_MAX_CHARS: usize = 64;
/// The shortest password, in characters.
pub(crate) const PASSWORD_MIN_CHARS: usize = 8;
/// The longest password, in bytes: argon2 takes any length, but a megabyte password is an
/// attack, not a password.
pub(crate) const PASSWORD_MAX_BYTES: usize = 1024;
/// The longest display name, in characters.
pub(crate) const NAME_MAX_CHARS: usize = 100;
/// The longest email address, in characters (RFC 5321 §4.5.3.1.3 paths).
pub(crate) const EMAIL_MAX_CHARS: usize = 254;

/// The same statement for SQLite and PostgreSQL.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS users (
    subject TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT,
    email TEXT,
    created_at BIGINT NOT NULL
)";

/// The hash of a password nobody knows, made with argon2's default parameters: an unknown
/// username is checked against it, so that it costs the same work as a known one and the
/// answer's timing does not tell whether the user exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Xf7fqR1JDvYwEHKb+cTmSg$PmtpDJ1BiRkCnTnrAwvdJiqR+CXwrvXRThu3UnQ5wDM";

/// Why a user operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UserError {
    /// The input breaks a rule; each message names its field.
    #[error("invalid user: {}", crate::validation::describe(.0))]
    Invalid(Vec<FieldMessage>),
    /// A user with this username exists.
    #[error("user {username} already exists")]
    Duplicate {
        /// The taken username.
        username: String,
    },
    /// The database failed.
    #[error("users table: {0}")]
    Database(#[from] sqlx::Error),
    /// Hashing or verifying a password failed for another reason than a wrong password.
    #[error("password hashing failed: {0}")]
    Hash(password_hash::Error),
    /// The system random generator failed.
    #[error("system randomness unavailable: {0}")]
    Entropy(String),
    /// A stored row is not a valid user.
    #[error("stored user is invalid: {0}")]
    Corrupt(String),
    /// The hashing task died.
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The store's backend is neither SQLite nor PostgreSQL.
    #[error("unsupported database backend for the users table")]
    UnsupportedBackend,
}

/// A user as the admin API shows it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct User {
    /// The stable `sub` the provider asserts (`user-<random>`).
    pub(crate) subject: String,
    /// What the user signs in with.
    pub(crate) username: String,
    /// Display name (`name` claim, scope `profile`).
    pub(crate) name: Option<String>,
    /// Email address (`email` claim, scope `email`).
    pub(crate) email: Option<String>,
    /// When the user was created, unix seconds.
    pub(crate) created_at: i64,
}

/// A user to create, as typed by an administrator.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewUser {
    /// Required, unique, 1 to 64 characters without spaces or control characters.
    pub(crate) username: String,
    /// Required, 8 characters to 1024 bytes.
    pub(crate) password: String,
    /// Optional display name.
    pub(crate) name: Option<String>,
    /// Optional email address.
    pub(crate) email: Option<String>,
}

/// A [`NewUser`] that passed validation: trimmed, optional fields `None` when blank.
struct ValidUser {
    username: String,
    password: String,
    name: Option<String>,
    email: Option<String>,
}

impl NewUser {
    /// Checks every field, reporting every problem at once.
    fn validate(self) -> Result<ValidUser, UserError> {
        let mut problems = Vec::new();
        let username = self.username.trim().to_owned();
        if username.is_empty() {
            problems.push(FieldMessage::new("username", "must not be empty"));
        } else if username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            problems.push(FieldMessage::new(
                "username",
                "must not contain spaces or control characters",
            ));
        } else if username.chars().count() > USERNAME_MAX_CHARS {
            problems.push(FieldMessage::new(
                "username",
                format!("must be at most {USERNAME_MAX_CHARS} characters"),
            ));
        }
        if self.password.chars().count() < PASSWORD_MIN_CHARS {
            problems.push(FieldMessage::new(
                "password",
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        } else if self.password.len() > PASSWORD_MAX_BYTES {
            problems.push(FieldMessage::new(
                "password",
                format!("must be at most {PASSWORD_MAX_BYTES} bytes"),
            ));
        }
        let name = blank_to_none(self.name);
        if let Some(name) = &name {
            if name.chars().any(char::is_control) {
                problems.push(FieldMessage::new(
                    "name",
                    "must not contain control characters",
                ));
            } else if name.chars().count() > NAME_MAX_CHARS {
                problems.push(FieldMessage::new(
                    "name",
                    format!("must be at most {NAME_MAX_CHARS} characters"),
                ));
            }
        }
        let email = blank_to_none(self.email);
        if let Some(email) = &email
            && let Some(problem) = email_problem(email)
        {
            problems.push(FieldMessage::new("email", problem));
        }
        if problems.is_empty() {
            Ok(ValidUser {
                username,
                password: self.password,
                name,
                email,
            })
        } else {
            Err(UserError::Invalid(problems))
        }
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// What is wrong with an email address, if anything: a light check (one `@`, something on
/// both sides, a dot in the domain, no spaces), not RFC 5322's grammar.
fn email_problem(email: &str) -> Option<String> {
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Some(format!("must be at most {EMAIL_MAX_CHARS} characters"));
    }
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    (!valid).then(|| "must be an email address like name@example.com".to_owned())
}

/// The connection pool of the store's database.
#[derive(Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool this is (the statements are the same
/// text for both databases: `$1`-style parameters work in sqlx's SQLite driver too).
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// The users table. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Users {
    db: Db,
    /// Bounds concurrent argon2 work (each hash takes 19 MiB and a core for a moment).
    hashing: Arc<Semaphore>,
}

/// A row of the users table without the hash.
type UserRow = (String, String, Option<String>, Option<String>, i64);

impl Users {
    /// The users table in `store`'s database, created if missing.
    pub(crate) async fn open(store: &SqlStore) -> Result<Users, UserError> {
        let db = match store {
            SqlStore::Sqlite(store) => Db::Sqlite(store.pool().clone()),
            SqlStore::Postgres(store) => Db::Postgres(store.pool().clone()),
            _ => return Err(UserError::UnsupportedBackend),
        };
        let created =
            with_pool!(&db, pool => sqlx::query(CREATE_TABLE).execute(pool).await.map(|_| ()));
        match created {
            Ok(_) => {}
            // Two PostgreSQL clients creating the table at the same moment: one wins, and
            // the other's `IF NOT EXISTS` may still trip over the type it just created.
            Err(err) if is_unique_violation(&err) => {}
            Err(err) => return Err(err.into()),
        }
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        Ok(Users {
            db,
            hashing: Arc::new(Semaphore::new(permits)),
        })
    }

    /// Creates a user with a fresh subject `user-<random>`.
    ///
    /// # Errors
    ///
    /// [`UserError::Invalid`] naming each bad field, [`UserError::Duplicate`] when the
    /// username is taken, and database or hashing failures.
    pub(crate) async fn create(&self, new: NewUser) -> Result<User, UserError> {
        let user = new.validate()?;
        if self.find_by_username(&user.username).await?.is_some() {
            return Err(UserError::Duplicate {
                username: user.username,
            });
        }
        let hash = self.hash(user.password).await?;
        let subject = format!(
            "user-{}",
            random_identifier().map_err(|err| UserError::Entropy(err.to_string()))?
        );
        let created_at = OffsetDateTime::now_utc().unix_timestamp();
        let inserted = with_pool!(&self.db, pool => sqlx::query(
            "INSERT INTO users (subject, username, password_hash, name, email, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&subject)
        .bind(&user.username)
        .bind(&hash)
        .bind(&user.name)
        .bind(&user.email)
        .bind(created_at)
        .execute(pool)
        .await
        .map(|_| ()));
        match inserted {
            Ok(_) => Ok(User {
                subject,
                username: user.username,
                name: user.name,
                email: user.email,
                created_at,
            }),
            // Created by someone else between the check and the insert.
            Err(err) if is_unique_violation(&err) => Err(UserError::Duplicate {
                username: user.username,
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// Every user, by username.
    pub(crate) async fn list(&self) -> Result<Vec<User>, UserError> {
        let rows: Vec<UserRow> = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT subject, username, name, email, created_at FROM users ORDER BY username",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(user_from_row).collect())
    }

    /// The user with this username, if any.
    pub(crate) async fn find_by_username(&self, username: &str) -> Result<Option<User>, UserError> {
        let row: Option<UserRow> = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT subject, username, name, email, created_at FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(user_from_row))
    }

    /// The user with this subject, if any.
    pub(crate) async fn find_by_subject(&self, subject: &str) -> Result<Option<User>, UserError> {
        let row: Option<UserRow> = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT subject, username, name, email, created_at FROM users WHERE subject = $1",
        )
        .bind(subject)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(user_from_row))
    }

    /// Replaces the password of `username`; answers whether the user exists.
    pub(crate) async fn set_password(
        &self,
        username: &str,
        password: String,
    ) -> Result<bool, UserError> {
        let valid = NewUser {
            username: username.to_owned(),
            password,
            ..NewUser::default()
        }
        .validate()?;
        let hash = self.hash(valid.password).await?;
        let updated = with_pool!(&self.db, pool => sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE username = $2",
        )
        .bind(&hash)
        .bind(username)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(updated > 0)
    }

    /// The subject of `username` if `password` is theirs. An unknown username costs the
    /// same argon2 work as a known one.
    pub(crate) async fn verify(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, UserError> {
        let row: Option<(String, String)> = with_pool!(&self.db, pool => sqlx::query_as(
            "SELECT subject, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(pool)
        .await)?;
        let (subject, hash) = match row {
            Some((subject, hash)) => (Some(subject), hash),
            None => (None, DUMMY_HASH.to_owned()),
        };
        let password = password.to_owned();
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| UserError::Hash(password_hash::Error::Internal))?;
        let verdict = tokio::task::spawn_blocking(move || {
            Argon2::default().verify_password(password.as_bytes(), hash.as_str())
        })
        .await?;
        match (verdict, subject) {
            (Ok(()), Some(subject)) => Subject::new(subject)
                .map(Some)
                .map_err(|err| UserError::Corrupt(err.to_string())),
            (Ok(()), None) | (Err(password_hash::Error::PasswordInvalid), _) => Ok(None),
            (Err(err), _) => Err(UserError::Hash(err)),
        }
    }

    /// An argon2id hash of `password` (the crate's default parameters), in PHC form.
    async fn hash(&self, password: String) -> Result<String, UserError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| UserError::Hash(password_hash::Error::Internal))?;
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(UserError::Hash)
        })
        .await?
    }
}

fn user_from_row((subject, username, name, email, created_at): UserRow) -> User {
    User {
        subject,
        username,
        name,
        email,
        created_at,
    }
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}

#[async_trait]
impl Authenticator for Users {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, BoxError> {
        Ok(self.verify(username, password).await?)
    }
}

#[async_trait]
impl ClaimsSource for Users {
    /// `profile` releases `name` and `preferred_username`; `email` releases `email`
    /// (OpenID Connect Core §5.4). A user deleted since the grant has no claims.
    async fn claims(
        &self,
        subject: &Subject,
        scopes: &ScopeSet,
    ) -> Result<Map<String, Value>, BoxError> {
        let mut claims = Map::new();
        let Some(user) = self.find_by_subject(subject.as_str()).await? else {
            return Ok(claims);
        };
        if scopes.contains("profile") {
            claims.insert("preferred_username".into(), json!(user.username));
            if let Some(name) = user.name {
                claims.insert("name".into(), json!(name));
            }
        }
        if scopes.contains("email")
            && let Some(email) = user.email
        {
            claims.insert("email".into(), json!(email));
        }
        Ok(claims)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_costs_what_a_real_hash_costs() {
        let dummy = argon2::password_hash::phc::PasswordHash::new(DUMMY_HASH).expect("parses");
        let real = Argon2::default()
            .hash_password(b"anything at all")
            .expect("hashes");
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
    }

    #[test]
    fn validation_names_each_field() {
        let err = NewUser {
            username: "two words".into(),
            password: "short".into(),
            name: Some("ok".into()),
            email: Some("not-an-email".into()),
        }
        .validate()
        .err()
        .unwrap_or_else(|| panic!("invalid"));
        let UserError::Invalid(fields) = err else {
            panic!("expected field errors, got {err}");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["username", "password", "email"]);
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let user = NewUser {
            username: " alice ".into(),
            password: "correct horse".into(),
            name: Some("  ".into()),
            email: Some(String::new()),
        }
        .validate()
        .unwrap_or_else(|err| panic!("valid: {err}"));
        assert_eq!(user.username, "alice");
        assert_eq!(user.name, None);
        assert_eq!(user.email, None);
    }

    #[test]
    fn emails() {
        assert!(email_problem("a@example.com").is_none());
        for bad in [
            "a",
            "@example.com",
            "a@",
            "a@b@c.d",
            "a@localhost",
            "a b@c.d",
        ] {
            assert!(email_problem(bad).is_some(), "{bad}");
        }
    }
}
