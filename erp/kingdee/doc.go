// Package kingdee lands records in Kingdee Cloud Galaxy / K3Cloud (金蝶云星空)
// through its WebAPI: one bill per record, found by its number.
//
// # One bill per record
//
// Kingdee has no idempotency key, so each record's bill carries FBillNo =
// erp.DocumentNumber(r) (e.g. "FBT-CAR-6612c0ffee0000000000a611"). Send
// looks the number up (ExecuteBillQuery: FID, FBillNo, FDocumentStatus)
// before every Save: absent, it saves a new bill; present, it saves with the
// bill's FID, which updates it (entries replaced: IsDeleteEntry). A create
// that Kingdee refuses is looked up again, so a create raced by a resend
// after a timeout becomes an update. A bill submitted for approval (B) or
// audited (C) accepts no changes: Send rejects the record, saying so, until
// someone withdraws or un-audits the bill in Kingdee.
//
// # What a mapping renders
//
// The erp.Mapper (a *mapping.Set of erp kingdee) renders each record to one
// JSON object:
//
//	{
//	  "formid": "AP_Payable",        // the form (business object) id
//	  "model": { ... },               // the bill's fields, as Save's Model
//	  "submit": false,                // submit the bill after saving it
//	  "audit": false,                 // submit and audit it after saving it
//	  "state_field": "",              // optional: a text field of the bill header
//	  "save_options": { ... }         // optional: Save's other parameters
//	}
//
// or {"skip": "why"} for a record that is deliberately not sent (Send
// succeeds without calling Kingdee).
//
//   - model holds the form's field keys (FDATE, FSUPPLIERID, ...). Base data
//     (suppliers, customers, materials, currencies, organisations) is named
//     by its code: {"FNumber": "PRE001"}. Numbers are written exactly as the
//     mapping renders them. The connector adds FBillNo (a mapping may set it
//     only to the record's number) and, to update, FID; a model must not set
//     FID or FDocumentStatus.
//   - submit and audit run Kingdee's Submit (and Audit) on the saved bill.
//     Such a bill cannot change afterwards, so with them set a mapping
//     should name a state_field.
//   - state_field names a header text field (e.g. a remark or a custom
//     field) where the connector writes the state's key (erp.IdempotencyKey:
//     vendor ids, a version and a digest, never record content). A bill that
//     already holds the state being sent counts as done without a Save, even
//     when it is submitted or audited: a resend after a timeout then never
//     fails on a bill its first send locked.
//   - save_options are laid over Save's defaults: IsDeleteEntry true,
//     ValidateFlag true, IsVerifyBaseDataField false, IsAutoSubmitAndAudit
//     false, NeedUpDateFields [], NeedReturnFields [].
//
// # Sessions
//
// The Sink keeps at most Config.MaxSessions sessions, each a login with its
// own cookies, and uses each for one call at a time, so no more than
// MaxSessions calls run at once. A session logs in on first use and is kept;
// the session used last is used next, so the others log in only when calls
// overlap. An answer saying the session was lost (IsSuccess false with
// 会话信息已丢失 in a message, or MsgCode 1) gets one new login and one
// repeat of the call.
//
// # Outcomes
//
// Every failure is an *erp.Error. Retryable: HTTP 5xx, 408 and 429,
// timeouts, network errors, unexpected answers, a refused login (an
// operator fixes the settings; the records wait rather than park), a lost
// session a new login did not cure, and IsSuccess false with MsgCode 13
// (the bill is locked by another user's edit) or 14 (call limit). Rejected:
// any other IsSuccess false (validation; a refused ExecuteBillQuery, which
// means a wrong form id or field key), a bill in a state that forbids
// changes, several bills with the record's number, a bill Kingdee saved
// under a number of its own (its coding rule overrides FBillNo), a record
// without a mapping, and a mapping output the connector cannot use. Error() never quotes Kingdee's answer (Reason, shown by
// Detail(), does), and no error or log holds the app secret, the password
// or a session id.
package kingdee
