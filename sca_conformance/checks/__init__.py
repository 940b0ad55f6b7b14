"""Contract checks: one small named condition per requirement ID, a module per section
of the contract (`auth`, `trigger`, `initiation`, `page`, `linking`, `after`, `race`,
`errors`; `reading` reads an answer for them).

Each check raises `RequirementViolation` naming its requirement, with what was expected
and what the target did. `proving(ID)` does the same for a block of web-first
assertions (`expect(...)`) in a browser test. Every check is `checks.X`, whatever its
section.
"""

from __future__ import annotations

from sca_conformance.checks.after import action_performed as action_performed
from sca_conformance.checks.after import already_active as already_active
from sca_conformance.checks.after import balance_moved_once as balance_moved_once
from sca_conformance.checks.after import consent_expired as consent_expired
from sca_conformance.checks.after import consent_reads as consent_reads
from sca_conformance.checks.after import consent_status as consent_status
from sca_conformance.checks.after import expired_consent_refused as expired_consent_refused
from sca_conformance.checks.after import new_consent_after_end as new_consent_after_end
from sca_conformance.checks.after import one_shot as one_shot
from sca_conformance.checks.after import other_request_needs_consent as other_request_needs_consent
from sca_conformance.checks.after import same_transaction as same_transaction
from sca_conformance.checks.after import status_became as status_became
from sca_conformance.checks.after import window_ended as window_ended
from sca_conformance.checks.after import window_open as window_open
from sca_conformance.checks.auth import login_answers_token_pair as login_answers_token_pair
from sca_conformance.checks.auth import refresh_after_expiry_rotates as refresh_after_expiry_rotates
from sca_conformance.checks.auth import (
    refresh_before_expiry_refused as refresh_before_expiry_refused,
)
from sca_conformance.checks.auth import unauthenticated_refused as unauthenticated_refused
from sca_conformance.checks.auth import unknown_key_refused as unknown_key_refused
from sca_conformance.checks.auth import used_refresh_token_refused as used_refresh_token_refused
from sca_conformance.checks.errors import REFUSALS as REFUSALS
from sca_conformance.checks.errors import empty_or_null_not_accepted as empty_or_null_not_accepted
from sca_conformance.checks.errors import error_fields as error_fields
from sca_conformance.checks.errors import error_list as error_list
from sca_conformance.checks.errors import invalid_input_named as invalid_input_named
from sca_conformance.checks.errors import invalid_input_not_accepted as invalid_input_not_accepted
from sca_conformance.checks.errors import no_server_error as no_server_error
from sca_conformance.checks.errors import refusal_lists_errors as refusal_lists_errors
from sca_conformance.checks.errors import refused_empty_or_null as refused_empty_or_null
from sca_conformance.checks.initiation import consent_not_found as consent_not_found
from sca_conformance.checks.initiation import fresh_method as fresh_method
from sca_conformance.checks.initiation import initiation_needs_token as initiation_needs_token
from sca_conformance.checks.initiation import initiation_refused as initiation_refused
from sca_conformance.checks.initiation import method_expires_in_future as method_expires_in_future
from sca_conformance.checks.initiation import method_in_body as method_in_body
from sca_conformance.checks.initiation import method_within_consent as method_within_consent
from sca_conformance.checks.initiation import (
    redirect_url_carries_token as redirect_url_carries_token,
)
from sca_conformance.checks.initiation import return_url_refused as return_url_refused
from sca_conformance.checks.linking import CURRENCY_SYMBOLS as CURRENCY_SYMBOLS
from sca_conformance.checks.linking import amount_shown as amount_shown
from sca_conformance.checks.linking import card_shown as card_shown
from sca_conformance.checks.linking import electronic_iban as electronic_iban
from sca_conformance.checks.linking import iban_shown as iban_shown
from sca_conformance.checks.linking import normalised as normalised
from sca_conformance.checks.linking import parse_amount as parse_amount
from sca_conformance.checks.linking import text_shown as text_shown
from sca_conformance.checks.page import consent_ended_unapproved as consent_ended_unapproved
from sca_conformance.checks.page import (
    declined_action_not_performed as declined_action_not_performed,
)
from sca_conformance.checks.page import framing_refused as framing_refused
from sca_conformance.checks.page import landed_on_return_url as landed_on_return_url
from sca_conformance.checks.page import landing_names_outcome as landing_names_outcome
from sca_conformance.checks.page import no_card_secrets as no_card_secrets
from sca_conformance.checks.page import not_cached_not_referred as not_cached_not_referred
from sca_conformance.checks.page import onboarding_redirect as onboarding_redirect
from sca_conformance.checks.race import approved_once as approved_once
from sca_conformance.checks.race import landing_says as landing_says
from sca_conformance.checks.race import one_landing as one_landing
from sca_conformance.checks.race import one_of_the_two as one_of_the_two
from sca_conformance.checks.race import one_transaction as one_transaction
from sca_conformance.checks.race import one_working_token as one_working_token
from sca_conformance.checks.race import paid_once as paid_once
from sca_conformance.checks.race import payment_made as payment_made
from sca_conformance.checks.race import payment_made_once as payment_made_once
from sca_conformance.checks.race import payment_not_made as payment_not_made
from sca_conformance.checks.reading import CLOCK_SKEW as CLOCK_SKEW
from sca_conformance.checks.reading import ISO_ZONED as ISO_ZONED
from sca_conformance.checks.reading import card_number_in as card_number_in
from sca_conformance.checks.reading import is_loopback as is_loopback
from sca_conformance.checks.reading import parse_timestamp as parse_timestamp
from sca_conformance.checks.trigger import Protected as Protected
from sca_conformance.checks.trigger import answers_412_json as answers_412_json
from sca_conformance.checks.trigger import consent_expires_in_future as consent_expires_in_future
from sca_conformance.checks.trigger import consent_id_is_uuid as consent_id_is_uuid
from sca_conformance.checks.trigger import consent_ids_distinct as consent_ids_distinct
from sca_conformance.checks.trigger import consent_in_body as consent_in_body
from sca_conformance.checks.trigger import consent_is_pending as consent_is_pending
from sca_conformance.checks.trigger import no_protected_data as no_protected_data
from sca_conformance.checks.trigger import not_protected as not_protected
from sca_conformance.checks.trigger import nothing_happened as nothing_happened
from sca_conformance.checks.trigger import scope_contains as scope_contains

# How a failure names a requirement, re-exported (`X as X`): the suites write
# `checks.proving(ID)`.
from sca_conformance.failures import VERDICTS as VERDICTS
from sca_conformance.failures import Mismatch as Mismatch
from sca_conformance.failures import RequirementViolation as RequirementViolation
from sca_conformance.failures import TargetNotPrepared as TargetNotPrepared
from sca_conformance.failures import hides_in_verdicts as hides_in_verdicts
from sca_conformance.failures import preparing as preparing
from sca_conformance.failures import proves as proves
from sca_conformance.failures import proving as proving

__tracebackhide__ = hides_in_verdicts
