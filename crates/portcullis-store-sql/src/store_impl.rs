//! The storage traits, written once for both backends.
//!
//! [`impl_store!`] expands into the trait implementations for one store type. It is invoked
//! in a module that has `sql` in scope (that backend's statements, [`crate::sql`]) and for a
//! type that provides:
//!
//! - `pool`: the backend's pool, for reads;
//! - `write(&self)`: a [`Writer`](crate::write::Writer) for single-statement writes;
//! - `begin_write(&self)`: a [`WriteTx`](crate::write::WriteTx) for multi-statement writes;
//! - `lock_signing_keys(&mut WriteTx)`: whatever makes key activations take turns.
//!
//! Every single-use operation is one conditional statement (`UPDATE … WHERE <still
//! usable> RETURNING`, `DELETE … RETURNING`) that only one caller can win, never a read
//! followed by a write. Operations that write more than one statement run in one
//! transaction and are retried when PostgreSQL aborts them to break a deadlock.

macro_rules! impl_store {
    ($store:ty, $conn:ty) => {
        use async_trait::async_trait;
        use portcullis_registry::{Client, ClientId, ScopeDefinition};
        use portcullis_store::{
            AuthorizationCode, ClientStore, CodeRedemption, CodeStore, FamilyId, KeyRecord,
            KeyStore, Page, PendingAuthorization, PendingAuthorizationStore, RecordFamily,
            Rotation, ScopeStore, SessionRecord, SessionStore, StoreError, SweepExpired,
            TokenRecord, TokenStatus, TokenStore,
        };
        use portcullis_tokens::{Subject, TokenHash};
        use time::OffsetDateTime;
        use $crate::codec::{self, micros};
        use $crate::error::{Class, classify, conflict_or_failed, failed, retrying};

        const FAMILY_MISMATCH_CODE: &str = "tokens issued for a code must join the code's family";
        const FAMILY_MISMATCH_ROTATION: &str =
            "successors must stay in the presented token's family";
        const NO_SUCCESSOR: &str = "a rotation needs at least one successor";
        const INSERT_ACTIVE_KEY: &str =
            "insert a signing key inactive, then activate it with activate_key";
        const REACTIVATE_RETIRED_KEY: &str =
            "a retired signing key is never activated again; insert a new key";
        const DELETE_ACTIVE_KEY: &str =
            "the active signing key cannot be deleted; activate another key first";

        async fn insert_token(
            conn: &mut $conn,
            token: &TokenRecord,
            op: &'static str,
        ) -> Result<(), StoreError> {
            sqlx::query(sql::TOKEN_INSERT)
                .bind(token.hash.as_bytes().as_slice())
                .bind(codec::kind_name(token.kind)?)
                .bind(token.client_id.as_str())
                .bind(token.subject.as_ref().map(Subject::as_str))
                .bind(token.scopes.to_string())
                .bind(codec::json(&token.roles, "tokens", "roles")?)
                .bind(token.family.as_str())
                .bind(micros(token.issued_at))
                .bind(micros(token.expires_at))
                .bind(codec::status_name(token.status))
                .bind(codec::json(&token.audience, "tokens", "audience")?)
                .bind(token.confirmation.as_deref())
                .execute(conn)
                .await
                .map_err(conflict_or_failed(op, RecordFamily::Token, || {
                    token.hash.to_string()
                }))?;
            Ok(())
        }

        /// Inserts `tokens` with one multi-row statement.
        async fn insert_tokens_at_once(
            conn: &mut $conn,
            tokens: &[&TokenRecord],
            op: &'static str,
        ) -> Result<(), StoreError> {
            let mut encoded = Vec::with_capacity(tokens.len());
            for token in tokens {
                encoded.push((
                    codec::kind_name(token.kind)?,
                    codec::json(&token.roles, "tokens", "roles")?,
                    codec::status_name(token.status),
                    codec::json(&token.audience, "tokens", "audience")?,
                ));
            }
            let statement = $crate::sql::token_insert_many(tokens.len());
            let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
            for (token, (kind, roles, status, audience)) in tokens.iter().zip(encoded) {
                query = query
                    .bind(token.hash.as_bytes().as_slice())
                    .bind(kind)
                    .bind(token.client_id.as_str())
                    .bind(token.subject.as_ref().map(Subject::as_str))
                    .bind(token.scopes.to_string())
                    .bind(roles)
                    .bind(token.family.as_str())
                    .bind(micros(token.issued_at))
                    .bind(micros(token.expires_at))
                    .bind(status)
                    .bind(audience)
                    .bind(token.confirmation.as_deref());
            }
            query.execute(conn).await.map_err(conflict_or_failed(
                op,
                RecordFamily::Token,
                || {
                    tokens
                        .first()
                        .map(|token| token.hash.to_string())
                        .unwrap_or_default()
                },
            ))?;
            Ok(())
        }

        async fn insert_session_client(
            conn: &mut $conn,
            id: &TokenHash,
            client: &ClientId,
            op: &'static str,
        ) -> Result<(), StoreError> {
            sqlx::query(sql::SESSION_CLIENT_INSERT)
                .bind(id.as_bytes().as_slice())
                .bind(client.as_str())
                .execute(conn)
                .await
                .map_err(failed(op))?;
            Ok(())
        }

        fn count(rows: u64) -> usize {
            usize::try_from(rows).unwrap_or(usize::MAX)
        }

        /// The operations that run in a transaction, each one attempt; the trait methods
        /// below retry them.
        impl $store {
            async fn try_update_client(&self, client: &Client) -> Result<(), StoreError> {
                const OP: &str = "update_client";
                let record = codec::client_json(client)?;
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    let updated = sqlx::query(sql::CLIENT_UPDATE)
                        .bind(client.id.as_str())
                        .bind(client.revoked)
                        .bind(record)
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    if updated == 0 {
                        return Err(StoreError::NotFound {
                            family: RecordFamily::Client,
                            key: client.id.to_string(),
                        });
                    }
                    if client.revoked {
                        sqlx::query(sql::TOKENS_REVOKE_ALL_OF_CLIENT)
                            .bind(client.id.as_str())
                            .execute(tx.conn())
                            .await
                            .map_err(failed(OP))?;
                    }
                    Ok(())
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
                const OP: &str = "delete_client";
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    let deleted = sqlx::query(sql::CLIENT_DELETE)
                        .bind(id.as_str())
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    sqlx::query(sql::TOKENS_REVOKE_ALL_OF_CLIENT)
                        .bind(id.as_str())
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    Ok(deleted > 0)
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_redeem_code(
                &self,
                code: &TokenHash,
                tokens: &[TokenRecord],
                now: OffsetDateTime,
            ) -> Result<CodeRedemption, StoreError> {
                const OP: &str = "redeem_code";
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    // The claim: only a live, unredeemed code matches, and only one caller
                    // can flip it.
                    let claimed = sqlx::query_as::<_, codec::CodeRow>(sql::CODE_REDEEM)
                        .bind(code.as_bytes().as_slice())
                        .bind(micros(now))
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    let Some(claimed) = claimed else {
                        let redeemed = sqlx::query_as::<_, codec::CodeRow>(sql::CODE_FIND_REDEEMED)
                            .bind(code.as_bytes().as_slice())
                            .bind(micros(now))
                            .fetch_optional(tx.conn())
                            .await
                            .map_err(failed(OP))?;
                        return Ok(match redeemed {
                            Some(row) => CodeRedemption::AlreadyRedeemed(row.into_record()?),
                            None => CodeRedemption::NotFound,
                        });
                    };
                    let record = claimed.into_record()?;
                    if tokens.iter().any(|token| token.family != record.family) {
                        return Err(StoreError::InvalidRecord {
                            family: RecordFamily::Token,
                            reason: FAMILY_MISMATCH_CODE,
                        });
                    }
                    for token in tokens {
                        insert_token(tx.conn(), token, OP).await?;
                    }
                    Ok(CodeRedemption::Redeemed(record))
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
                const OP: &str = "insert_tokens";
                if let [token] = tokens {
                    let mut writer = self.write().await.map_err(failed(OP))?;
                    return insert_token(writer.conn(), token, OP).await;
                }
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    for token in tokens {
                        insert_token(tx.conn(), token, OP).await?;
                    }
                    Ok(())
                }
                .await;
                tx.finish(result, OP).await
            }

            /// Group commit: the caller queues its tokens, then either finds them committed
            /// by another caller or becomes the leader that commits everything queued so far
            /// in one transaction (one fsync for the lot). Each caller's answer is its own:
            /// when the shared transaction fails, every caller's tokens are inserted again in
            /// a transaction of their own, as without grouping.
            async fn insert_tokens_grouped(
                &self,
                group: &$crate::group::GroupCommit,
                tokens: Vec<TokenRecord>,
            ) -> Result<(), StoreError> {
                let mut done = group.enqueue(tokens);
                let leader = tokio::select! {
                    biased;
                    answer = &mut done => return $crate::group::answer(answer),
                    leader = group.lead() => leader,
                };
                let batch = group.take();
                // An empty queue: another leader took ours and answers it.
                if !batch.is_empty() {
                    self.commit_group(batch).await;
                }
                drop(leader);
                $crate::group::answer(done.await)
            }

            /// Commits a group of queued insertions and answers each caller.
            async fn commit_group(&self, batch: Vec<$crate::group::Queued>) {
                const OP: &str = "insert_tokens";
                let together = async {
                    let mut tx = self.begin_write().await.map_err(failed(OP))?;
                    let result = async {
                        let tokens: Vec<&TokenRecord> =
                            batch.iter().flat_map(|queued| &queued.tokens).collect();
                        for chunk in tokens.chunks($crate::sql::TOKEN_INSERT_MAX_ROWS) {
                            insert_tokens_at_once(tx.conn(), chunk, OP).await?;
                        }
                        Ok(())
                    }
                    .await;
                    tx.finish(result, OP).await
                }
                .await;
                match together {
                    Ok(()) => {
                        for queued in batch {
                            let _ = queued.done.send(Ok(()));
                        }
                    }
                    Err(_) => {
                        for queued in batch {
                            let result = retrying!(self.try_insert_tokens(&queued.tokens));
                            let _ = queued.done.send(result);
                        }
                    }
                }
            }

            async fn try_rotate_refresh_token(
                &self,
                presented: &TokenHash,
                successors: &[TokenRecord],
                now: OffsetDateTime,
            ) -> Result<Rotation, StoreError> {
                const OP: &str = "rotate_refresh_token";
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    // The claim: only a live, active refresh token matches, and only one
                    // caller can flip it to rotated.
                    let rotated = sqlx::query_as::<_, codec::TokenRow>(sql::TOKEN_ROTATE)
                        .bind(presented.as_bytes().as_slice())
                        .bind(micros(now))
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    if let Some(row) = rotated {
                        let mut previous = row.into_record()?;
                        previous.status = TokenStatus::Active;
                        if successors.is_empty() {
                            return Err(StoreError::InvalidRecord {
                                family: RecordFamily::Token,
                                reason: NO_SUCCESSOR,
                            });
                        }
                        if successors.iter().any(|s| s.family != previous.family) {
                            return Err(StoreError::InvalidRecord {
                                family: RecordFamily::Token,
                                reason: FAMILY_MISMATCH_ROTATION,
                            });
                        }
                        for successor in successors {
                            insert_token(tx.conn(), successor, OP).await?;
                        }
                        return Ok(Rotation::Rotated { previous });
                    }
                    // Not active: a rotated token presented again is reuse (RFC 9700
                    // §4.14.2), and its whole family is revoked in this transaction.
                    let family: Option<String> = sqlx::query_scalar(sql::TOKEN_ROTATED_FAMILY)
                        .bind(presented.as_bytes().as_slice())
                        .bind(micros(now))
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    let Some(family) = family else {
                        return Ok(Rotation::Invalid);
                    };
                    let revoked = sqlx::query(sql::TOKENS_REVOKE_FAMILY)
                        .bind(family.as_str())
                        .bind(micros(now))
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    Ok(Rotation::ReuseDetected {
                        family: FamilyId::from_stored(family),
                        revoked,
                    })
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_revoke_token(
                &self,
                hash: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<TokenRecord>, StoreError> {
                const OP: &str = "revoke_token";
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    let before = sqlx::query_as::<_, codec::TokenRow>(sql::TOKEN_FIND_FOR_REVOKE)
                        .bind(hash.as_bytes().as_slice())
                        .bind(micros(now))
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    let Some(before) = before else {
                        return Ok(None);
                    };
                    let before = before.into_record()?;
                    sqlx::query(sql::TOKEN_REVOKE)
                        .bind(hash.as_bytes().as_slice())
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    Ok(Some(before))
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
                const OP: &str = "insert_session";
                let amr = codec::json(&session.amr, "sessions", "amr")?;
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    sqlx::query(sql::SESSION_INSERT)
                        .bind(session.id.as_bytes().as_slice())
                        .bind(session.subject.as_str())
                        .bind(micros(session.auth_time))
                        .bind(amr)
                        .bind(micros(session.created_at))
                        .bind(micros(session.expires_at))
                        .execute(tx.conn())
                        .await
                        .map_err(conflict_or_failed(OP, RecordFamily::Session, || {
                            session.id.to_string()
                        }))?;
                    for client in &session.clients {
                        insert_session_client(tx.conn(), &session.id, client, OP).await?;
                    }
                    Ok(())
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_delete_session(
                &self,
                id: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<SessionRecord>, StoreError> {
                const OP: &str = "delete_session";
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    // Lock the session first, so no client can join it between reading its
                    // clients and deleting it.
                    let locked: Option<Vec<u8>> = sqlx::query_scalar(sql::SESSION_LOCK)
                        .bind(id.as_bytes().as_slice())
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    if locked.is_none() {
                        return Ok(None);
                    }
                    let clients: Vec<String> = sqlx::query_scalar(sql::SESSION_CLIENTS)
                        .bind(id.as_bytes().as_slice())
                        .fetch_all(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    // The claim: of concurrent callers, only one deletes the row.
                    let deleted = sqlx::query_as::<_, codec::SessionRow>(sql::SESSION_DELETE)
                        .bind(id.as_bytes().as_slice())
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    let Some(deleted) = deleted else {
                        return Ok(None);
                    };
                    let session = deleted.into_record(clients)?;
                    Ok((!session.is_expired(now)).then_some(session))
                }
                .await;
                tx.finish(result, OP).await
            }

            async fn try_activate_key(
                &self,
                kid: &str,
                now: OffsetDateTime,
            ) -> Result<(), StoreError> {
                const OP: &str = "activate_key";
                let mut tx = self.begin_write().await.map_err(failed(OP))?;
                let result = async {
                    Self::lock_signing_keys(&mut tx).await.map_err(failed(OP))?;
                    let state = sqlx::query_as::<_, codec::KeyStateRow>(sql::KEY_STATE)
                        .bind(kid)
                        .fetch_optional(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    let Some(state) = state else {
                        return Err(StoreError::NotFound {
                            family: RecordFamily::SigningKey,
                            key: kid.to_owned(),
                        });
                    };
                    if state.retired_at.is_some() {
                        return Err(StoreError::InvalidRecord {
                            family: RecordFamily::SigningKey,
                            reason: REACTIVATE_RETIRED_KEY,
                        });
                    }
                    if state.activated_at.is_some() {
                        return Ok(()); // already the active key
                    }
                    sqlx::query(sql::KEYS_RETIRE_ACTIVE)
                        .bind(micros(now))
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    sqlx::query(sql::KEY_ACTIVATE)
                        .bind(kid)
                        .bind(micros(now))
                        .execute(tx.conn())
                        .await
                        .map_err(failed(OP))?;
                    Ok(())
                }
                .await;
                tx.finish(result, OP).await
            }
        }

        #[async_trait]
        impl ClientStore for $store {
            async fn insert_client(&self, client: Client) -> Result<(), StoreError> {
                const OP: &str = "insert_client";
                let record = codec::client_json(&client)?;
                let mut writer = self.write().await.map_err(failed(OP))?;
                let result = sqlx::query(sql::CLIENT_INSERT)
                    .bind(client.id.as_str())
                    .bind(client.revoked)
                    .bind(record)
                    .execute(writer.conn())
                    .await
                    .map_err(conflict_or_failed(OP, RecordFamily::Client, || {
                        client.id.to_string()
                    }));
                drop(writer);
                self.cache.invalidate_client(&client.id);
                result.map(|_| ())
            }

            async fn get_client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
                let generation = match self.cache.client(id) {
                    Ok(client) => return Ok(Some(client)),
                    Err(generation) => generation,
                };
                let record: Option<String> = sqlx::query_scalar(sql::CLIENT_GET)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed("get_client"))?;
                let client = record.as_deref().map(codec::client_from_json).transpose()?;
                if let Some(client) = &client {
                    self.cache.keep_client(generation, client);
                }
                Ok(client)
            }

            async fn update_client(&self, client: Client) -> Result<(), StoreError> {
                let result = retrying!(self.try_update_client(&client));
                self.cache.invalidate_client(&client.id);
                result
            }

            async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
                let result = retrying!(self.try_delete_client(id));
                self.cache.invalidate_client(id);
                result
            }

            async fn list_clients(&self, page: Page<ClientId>) -> Result<Vec<Client>, StoreError> {
                let limit = codec::sql_count(page.limit);
                let records: Vec<String> = match &page.after {
                    Some(after) => {
                        sqlx::query_scalar(sql::CLIENTS_LIST_AFTER)
                            .bind(after.as_str())
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await
                    }
                    None => {
                        sqlx::query_scalar(sql::CLIENTS_LIST_FIRST)
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await
                    }
                }
                .map_err(failed("list_clients"))?;
                records
                    .iter()
                    .map(|record| codec::client_from_json(record))
                    .collect()
            }
        }

        #[async_trait]
        impl ScopeStore for $store {
            async fn insert_scope(&self, scope: ScopeDefinition) -> Result<(), StoreError> {
                const OP: &str = "insert_scope";
                let mut writer = self.write().await.map_err(failed(OP))?;
                let result = sqlx::query(sql::SCOPE_INSERT)
                    .bind(scope.name.as_str())
                    .bind(scope.description.as_str())
                    .execute(writer.conn())
                    .await
                    .map_err(conflict_or_failed(OP, RecordFamily::Scope, || {
                        scope.name.as_str().to_owned()
                    }));
                drop(writer);
                self.cache.invalidate_scopes();
                result.map(|_| ())
            }

            async fn get_scope(&self, name: &str) -> Result<Option<ScopeDefinition>, StoreError> {
                sqlx::query_as::<_, codec::ScopeRow>(sql::SCOPE_GET)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed("get_scope"))?
                    .map(codec::ScopeRow::into_record)
                    .transpose()
            }

            async fn list_scopes(&self) -> Result<Vec<ScopeDefinition>, StoreError> {
                let generation = match self.cache.scopes() {
                    Ok(scopes) => return Ok(scopes),
                    Err(generation) => generation,
                };
                let scopes = sqlx::query_as::<_, codec::ScopeRow>(sql::SCOPES_LIST)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed("list_scopes"))?
                    .into_iter()
                    .map(codec::ScopeRow::into_record)
                    .collect::<Result<Vec<_>, _>>()?;
                self.cache.keep_scopes(generation, &scopes);
                Ok(scopes)
            }

            async fn delete_scope(&self, name: &str) -> Result<bool, StoreError> {
                const OP: &str = "delete_scope";
                let mut writer = self.write().await.map_err(failed(OP))?;
                let result = sqlx::query(sql::SCOPE_DELETE)
                    .bind(name)
                    .execute(writer.conn())
                    .await
                    .map_err(failed(OP));
                drop(writer);
                self.cache.invalidate_scopes();
                Ok(result?.rows_affected() > 0)
            }
        }

        #[async_trait]
        impl PendingAuthorizationStore for $store {
            async fn insert_pending(
                &self,
                pending: PendingAuthorization,
            ) -> Result<(), StoreError> {
                const OP: &str = "insert_pending";
                let prompt = codec::json(&pending.prompt, "pending_authorizations", "prompt")?;
                let mut writer = self.write().await.map_err(failed(OP))?;
                sqlx::query(sql::PENDING_INSERT)
                    .bind(pending.handle.as_bytes().as_slice())
                    .bind(pending.client_id.as_str())
                    .bind(pending.redirect_uri.as_str())
                    .bind(pending.redirect_uri_in_request)
                    .bind(pending.response_type.as_str())
                    .bind(pending.response_mode.as_str())
                    .bind(pending.scopes.to_string())
                    .bind(pending.state.as_deref())
                    .bind(pending.nonce.as_deref())
                    .bind(pending.code_challenge.as_deref())
                    .bind(pending.code_challenge_method.as_deref())
                    .bind(prompt)
                    .bind(pending.max_age.map(i64::from))
                    .bind(micros(pending.created_at))
                    .bind(micros(pending.expires_at))
                    .bind(codec::json(
                        &pending.resources,
                        "pending_authorizations",
                        "resources",
                    )?)
                    .bind(pending.dpop_jkt.as_deref())
                    .execute(writer.conn())
                    .await
                    .map_err(conflict_or_failed(
                        OP,
                        RecordFamily::PendingAuthorization,
                        || pending.handle.to_string(),
                    ))?;
                Ok(())
            }

            async fn get_pending(
                &self,
                handle: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<PendingAuthorization>, StoreError> {
                sqlx::query_as::<_, codec::PendingRow>(sql::PENDING_GET)
                    .bind(handle.as_bytes().as_slice())
                    .bind(micros(now))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed("get_pending"))?
                    .map(codec::PendingRow::into_record)
                    .transpose()
            }

            async fn take_pending(
                &self,
                handle: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<PendingAuthorization>, StoreError> {
                const OP: &str = "take_pending";
                let mut writer = self.write().await.map_err(failed(OP))?;
                // The claim: of concurrent callers, only one deletes the row. An expired
                // record is removed too, but not returned.
                let taken = sqlx::query_as::<_, codec::PendingRow>(sql::PENDING_TAKE)
                    .bind(handle.as_bytes().as_slice())
                    .fetch_optional(writer.conn())
                    .await
                    .map_err(failed(OP))?
                    .map(codec::PendingRow::into_record)
                    .transpose()?;
                Ok(taken.filter(|pending| !pending.is_expired(now)))
            }
        }

        #[async_trait]
        impl CodeStore for $store {
            async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
                const OP: &str = "insert_code";
                let mut writer = self.write().await.map_err(failed(OP))?;
                sqlx::query(sql::CODE_INSERT)
                    .bind(code.code.as_bytes().as_slice())
                    .bind(code.client_id.as_str())
                    .bind(code.redirect_uri.as_deref())
                    .bind(code.subject.as_str())
                    .bind(code.scopes.to_string())
                    .bind(code.nonce.as_deref())
                    .bind(code.code_challenge.as_deref())
                    .bind(code.code_challenge_method.as_deref())
                    .bind(code.auth_time.map(micros))
                    .bind(code.family.as_str())
                    .bind(micros(code.issued_at))
                    .bind(micros(code.expires_at))
                    .bind(codec::json(
                        &code.resources,
                        "authorization_codes",
                        "resources",
                    )?)
                    .bind(code.dpop_jkt.as_deref())
                    .execute(writer.conn())
                    .await
                    .map_err(conflict_or_failed(
                        OP,
                        RecordFamily::AuthorizationCode,
                        || code.code.to_string(),
                    ))?;
                Ok(())
            }

            async fn find_code(
                &self,
                code: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<AuthorizationCode>, StoreError> {
                sqlx::query_as::<_, codec::CodeRow>(sql::CODE_FIND)
                    .bind(code.as_bytes().as_slice())
                    .bind(micros(now))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed("find_code"))?
                    .map(codec::CodeRow::into_record)
                    .transpose()
            }

            async fn redeem_code(
                &self,
                code: &TokenHash,
                tokens: Vec<TokenRecord>,
                now: OffsetDateTime,
            ) -> Result<CodeRedemption, StoreError> {
                retrying!(self.try_redeem_code(code, &tokens, now))
            }
        }

        #[async_trait]
        impl TokenStore for $store {
            async fn insert_tokens(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError> {
                if tokens.is_empty() {
                    return Ok(());
                }
                match self.group_commit() {
                    Some(group) => self.insert_tokens_grouped(group, tokens).await,
                    None => retrying!(self.try_insert_tokens(&tokens)),
                }
            }

            async fn find_token(
                &self,
                hash: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<TokenRecord>, StoreError> {
                sqlx::query_as::<_, codec::TokenRow>(sql::TOKEN_FIND)
                    .bind(hash.as_bytes().as_slice())
                    .bind(micros(now))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed("find_token"))?
                    .map(codec::TokenRow::into_record)
                    .transpose()
            }

            async fn rotate_refresh_token(
                &self,
                presented: &TokenHash,
                successors: Vec<TokenRecord>,
                now: OffsetDateTime,
            ) -> Result<Rotation, StoreError> {
                retrying!(self.try_rotate_refresh_token(presented, &successors, now))
            }

            async fn revoke_token(
                &self,
                hash: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<TokenRecord>, StoreError> {
                retrying!(self.try_revoke_token(hash, now))
            }

            async fn revoke_family(
                &self,
                family: &FamilyId,
                now: OffsetDateTime,
            ) -> Result<u64, StoreError> {
                const OP: &str = "revoke_family";
                retrying!(async {
                    let mut writer = self.write().await.map_err(failed(OP))?;
                    Ok(sqlx::query(sql::TOKENS_REVOKE_FAMILY)
                        .bind(family.as_str())
                        .bind(micros(now))
                        .execute(writer.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected())
                })
            }

            async fn revoke_client_tokens(
                &self,
                client: &ClientId,
                now: OffsetDateTime,
            ) -> Result<u64, StoreError> {
                const OP: &str = "revoke_client_tokens";
                retrying!(async {
                    let mut writer = self.write().await.map_err(failed(OP))?;
                    Ok(sqlx::query(sql::TOKENS_REVOKE_CLIENT)
                        .bind(client.as_str())
                        .bind(micros(now))
                        .execute(writer.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected())
                })
            }

            async fn list_client_tokens(
                &self,
                client: &ClientId,
                now: OffsetDateTime,
            ) -> Result<Vec<TokenRecord>, StoreError> {
                sqlx::query_as::<_, codec::TokenRow>(sql::TOKENS_LIST_CLIENT)
                    .bind(client.as_str())
                    .bind(micros(now))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed("list_client_tokens"))?
                    .into_iter()
                    .map(codec::TokenRow::into_record)
                    .collect()
            }

            async fn list_family(
                &self,
                family: &FamilyId,
                now: OffsetDateTime,
            ) -> Result<Vec<TokenRecord>, StoreError> {
                sqlx::query_as::<_, codec::TokenRow>(sql::TOKENS_LIST_FAMILY)
                    .bind(family.as_str())
                    .bind(micros(now))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed("list_family"))?
                    .into_iter()
                    .map(codec::TokenRow::into_record)
                    .collect()
            }
        }

        #[async_trait]
        impl SessionStore for $store {
            async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
                retrying!(self.try_insert_session(&session))
            }

            async fn get_session(
                &self,
                id: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<SessionRecord>, StoreError> {
                let rows = sqlx::query_as::<_, codec::SessionClientRow>(sql::SESSION_GET)
                    .bind(id.as_bytes().as_slice())
                    .bind(micros(now))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed("get_session"))?;
                codec::session_from_join(rows)
            }

            async fn add_session_client(
                &self,
                id: &TokenHash,
                client: &ClientId,
                now: OffsetDateTime,
            ) -> Result<bool, StoreError> {
                const OP: &str = "add_session_client";
                let mut writer = self.write().await.map_err(failed(OP))?;
                // One insert, only while the session is live; a client already there is
                // left alone. No read-modify-write, so concurrent additions all land.
                let inserted = match sqlx::query(sql::SESSION_ADD_CLIENT)
                    .bind(id.as_bytes().as_slice())
                    .bind(client.as_str())
                    .bind(micros(now))
                    .execute(writer.conn())
                    .await
                {
                    Ok(done) => done.rows_affected(),
                    // The session ended between the insert's read and its write.
                    Err(err) if classify(&err) == Class::ForeignKeyViolation => return Ok(false),
                    Err(err) => return Err(failed(OP)(err)),
                };
                if inserted > 0 {
                    return Ok(true);
                }
                // Nothing inserted: either the client was there already or the session is
                // not live.
                let live: i64 = sqlx::query_scalar(sql::SESSION_LIVE_COUNT)
                    .bind(id.as_bytes().as_slice())
                    .bind(micros(now))
                    .fetch_one(writer.conn())
                    .await
                    .map_err(failed(OP))?;
                Ok(live > 0)
            }

            async fn delete_session(
                &self,
                id: &TokenHash,
                now: OffsetDateTime,
            ) -> Result<Option<SessionRecord>, StoreError> {
                retrying!(self.try_delete_session(id, now))
            }

            async fn delete_subject_sessions(
                &self,
                subject: &Subject,
                now: OffsetDateTime,
            ) -> Result<u64, StoreError> {
                const OP: &str = "delete_subject_sessions";
                let mut writer = self.write().await.map_err(failed(OP))?;
                let ended: Vec<i64> = sqlx::query_scalar(sql::SESSIONS_DELETE_SUBJECT)
                    .bind(subject.as_str())
                    .fetch_all(writer.conn())
                    .await
                    .map_err(failed(OP))?;
                let now = micros(now);
                let live = ended
                    .into_iter()
                    .filter(|expires_at| *expires_at > now)
                    .count();
                Ok(u64::try_from(live).unwrap_or(u64::MAX))
            }
        }

        #[async_trait]
        impl KeyStore for $store {
            async fn insert_key(&self, key: KeyRecord) -> Result<(), StoreError> {
                const OP: &str = "insert_key";
                if key.is_active() {
                    return Err(StoreError::InvalidRecord {
                        family: RecordFamily::SigningKey,
                        reason: INSERT_ACTIVE_KEY,
                    });
                }
                let mut writer = self.write().await.map_err(failed(OP))?;
                sqlx::query(sql::KEY_INSERT)
                    .bind(key.kid.as_str())
                    .bind(key.algorithm.as_str())
                    .bind(key.private_pkcs8.as_slice())
                    .bind(micros(key.created_at))
                    .bind(key.activated_at.map(micros))
                    .bind(key.retired_at.map(micros))
                    .execute(writer.conn())
                    .await
                    .map_err(conflict_or_failed(OP, RecordFamily::SigningKey, || {
                        key.kid.clone()
                    }))?;
                Ok(())
            }

            async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
                sqlx::query_as::<_, codec::KeyRow>(sql::KEYS_LIST)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(failed("list_keys"))?
                    .into_iter()
                    .map(codec::KeyRow::into_record)
                    .collect()
            }

            async fn activate_key(&self, kid: &str, now: OffsetDateTime) -> Result<(), StoreError> {
                retrying!(self.try_activate_key(kid, now))
            }

            async fn delete_key(&self, kid: &str) -> Result<bool, StoreError> {
                const OP: &str = "delete_key";
                let mut writer = self.write().await.map_err(failed(OP))?;
                // Refusing the active key is part of the delete itself, not a prior read.
                let deleted = sqlx::query(sql::KEY_DELETE_INACTIVE)
                    .bind(kid)
                    .execute(writer.conn())
                    .await
                    .map_err(failed(OP))?
                    .rows_affected();
                if deleted > 0 {
                    return Ok(true);
                }
                let remaining: i64 = sqlx::query_scalar(sql::KEY_COUNT)
                    .bind(kid)
                    .fetch_one(writer.conn())
                    .await
                    .map_err(failed(OP))?;
                if remaining > 0 {
                    return Err(StoreError::InvalidRecord {
                        family: RecordFamily::SigningKey,
                        reason: DELETE_ACTIVE_KEY,
                    });
                }
                Ok(false)
            }

            async fn active_key(&self) -> Result<Option<KeyRecord>, StoreError> {
                sqlx::query_as::<_, codec::KeyRow>(sql::KEY_ACTIVE)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(failed("active_key"))?
                    .map(codec::KeyRow::into_record)
                    .transpose()
            }
        }

        #[async_trait]
        impl SweepExpired for $store {
            async fn sweep_expired(
                &self,
                now: OffsetDateTime,
                batch: usize,
            ) -> Result<usize, StoreError> {
                const OP: &str = "sweep_expired";
                let now = micros(now);
                let mut swept: usize = 0;
                for statement in [
                    sql::SWEEP_PENDING,
                    sql::SWEEP_CODES,
                    sql::SWEEP_TOKENS,
                    sql::SWEEP_SESSIONS,
                ] {
                    let left = batch.saturating_sub(swept);
                    if left == 0 {
                        break;
                    }
                    // One short statement per family, so other writers get their turn in
                    // between.
                    let mut writer = self.write().await.map_err(failed(OP))?;
                    let deleted = sqlx::query(statement)
                        .bind(now)
                        .bind(codec::sql_count(left))
                        .execute(writer.conn())
                        .await
                        .map_err(failed(OP))?
                        .rows_affected();
                    swept = swept.saturating_add(count(deleted));
                }
                // Device authorizations and used assertion ids (src/extensions).
                let left = batch.saturating_sub(swept);
                if left > 0 {
                    swept = swept.saturating_add(self.sweep_extensions(now, left).await?);
                }
                Ok(swept)
            }
        }
    };
}

pub(crate) use impl_store;
