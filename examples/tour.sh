#!/usr/bin/env bash
# The README tour: one shingle roof from the first call to the final payment, against a running
# `roofline up` (run from the repository root: examples/tour.sh). Each step prints what the jobs
# service answered; the script stops at the first answer it did not expect.
#
#   ROOFLINE  the CLI (default .venv/bin/roofline)
#   JOBS      the jobs service's URL (default: from `roofline status --json`)
#   BILLING   the billing service's URL (default: from `roofline status --json`)
#   MESSAGING the messaging service's URL (default: from `roofline status --json`)
#   TENANT    the tenant the tokens are for (default acme)
set -euo pipefail
ROOFLINE=${ROOFLINE:-.venv/bin/roofline}
TENANT=${TENANT:-acme}
roofline() { $ROOFLINE "$@"; }
url_of() {  # url_of SERVICE: its URL, from `roofline status --json`
  roofline status --json | python3 -c \
    "import json,sys; print(next(s['url'] for s in json.load(sys.stdin)['services'] if s['name']==sys.argv[1]))" "$1"
}
JOBS=${JOBS:-$(url_of jobs)}
BILLING=${BILLING:-$(url_of billing)}
MESSAGING=${MESSAGING:-$(url_of messaging)}

# call TOKEN METHOD PATH [JSON]: the jobs service's answer; stops the tour on an error status
call() {
  curl -sS --fail-with-body -X "$2" "$JOBS$3" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' ${4:+--data "$4"}
}
# message TOKEN METHOD PATH [JSON]: the messaging service's answer (the installer portal)
message() {
  curl -sS --fail-with-body -X "$2" "$MESSAGING$3" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' ${4:+--data "$4"}
}
# money TOKEN METHOD PATH [JSON]: the billing service's answer (one key per request: a retry of
# the same request with the same Idempotency-Key would be recorded once)
money() {
  curl -sS --fail-with-body -X "$2" "$BILLING$3" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $(python3 -c 'import uuid; print(uuid.uuid4())')" \
    ${4:+--data "$4"}
}
# refused TOKEN METHOD PATH [JSON]: a command the tour expects a 409 for
refused() {
  local answer
  answer=$(curl -sS -X "$2" "$JOBS$3" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' ${4:+--data "$4"} -w '\n%{http_code}')
  [ "${answer##*$'\n'}" = 409 ] || { echo "expected 409, got: $answer" >&2; return 1; }
  echo "${answer%$'\n'*}"
}
# show PATH...: fields of the JSON on stdin on one line (a.b: nested, documents.-1: the last)
show() {
  python3 -c "
import json, sys
def get(v, path):
    for part in path.split('.'):
        v = v[int(part)] if isinstance(v, list) else v.get(part)
    return v
d = json.load(sys.stdin)
print('  ' + '  '.join(f'{p}={get(d, p)}' for p in sys.argv[1:]))" "$@"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
day() { python3 -c "import datetime,sys; print(datetime.date.today() + datetime.timedelta(days=int(sys.argv[1])))" "$1"; }

# One token per person, each with the role their step needs.
SALES=$(roofline token --user sam --tenant "$TENANT" --role sales)                 # Sam, sales rep
CSA=$(roofline token --user ann --tenant "$TENANT" --role csa)                     # Ann, CSA
PRODUCTION=$(roofline token --user pat --tenant "$TENANT" --role production_manager)  # Pat
PM=$(roofline token --user pete --tenant "$TENANT" --role project_manager)         # Pete, on the roof
INSTALLER=$(roofline token --user ivan --tenant "$TENANT" --role installer)        # Ivan, on the crew
BILLER=$(roofline token --user bea --tenant "$TENANT" --role billing)              # Bea, billing

echo "1. Ann (CSA) takes a call: a lead. Not a sales rep's yet, so not in the pipeline."
JOB=$(call "$CSA" POST /jobs '{"customer": {"name": "Dana Reyes", "phone": "555-0100", "email": "dana@example.com"},
  "address": {"line": "12 Elm St", "city": "Austin", "state": "TX", "latitude": 30.27, "longitude": -97.74},
  "trades": ["roofing"], "lead_source": "phone"}' | field "['job_id']")
# Dana's email is where her satisfaction survey will go once the job is completed.
call "$CSA" GET "/jobs/$JOB" | show job_id milestone in_pipeline

echo "2. Ann assigns it to Sam (sales), herself (CSA) and Pete (project manager): it enters the pipeline."
call "$CSA" POST "/jobs/$JOB/assign" \
  '{"sales_rep_id": "sam", "csa_id": "ann", "project_manager_id": "pete"}' \
  | show milestone in_pipeline team.sales_rep_id

echo "3. The other services answered the lead (billing opened a finance folder, messaging a thread, ...)."
for _ in 1 2 3 4 5 6 7 8 9 10; do  # a moment later
  [ "$(call "$SALES" GET "/jobs/$JOB" | field "['awaiting']")" = "[]" ] && break || sleep 1
done
call "$SALES" GET "/jobs/$JOB" | python3 -c \
  "import json,sys; print('  acknowledged_by', *sorted(json.load(sys.stdin)['acknowledged_by']))"

echo "4. Sam quotes it: prospect, one line item (a job is never sold without one)."
call "$SALES" POST "/jobs/$JOB/milestone" '{"to": "prospect"}' | show milestone
call "$SALES" POST "/jobs/$JOB/line-items" \
  '{"description": "Architectural shingle roof", "quantity": "32", "unit_price": "390.00", "trade": "roofing"}' \
  | show line_items.0.description line_items.0.quantity line_items.0.unit_price

echo "5. The sale: Sam cannot approve his own sale (409), so he asks; Ann approves."
refused "$SALES" POST "/jobs/$JOB/milestone" '{"to": "approved"}' | show title missing
REQUEST=$(call "$SALES" POST "/jobs/$JOB/approval-requests" '{"to": "approved", "note": "customer said yes"}' \
  | field "['approval_requests'][-1]['request_id']")
call "$CSA" POST "/jobs/$JOB/approval-requests/$REQUEST/decision" '{"approve": true, "note": "ok"}' \
  | show milestone job_number production_status

echo "6. Ann hands it to production too early: refused, with everything the file still needs."
refused "$CSA" POST "/jobs/$JOB/handoff" | show title missing

echo "7. Ann completes the file: signed contract, measurements, material specification, a property photo."
call "$CSA" POST "/jobs/$JOB/contract" "{\"signed_on\": \"$(day 0)\", \"contract_price\": \"12480.00\"}" \
  | show current_contract_price financials.contract_signed_on
call "$CSA" POST "/jobs/$JOB/measurements" '{"roof_squares": "31", "pitch": "6/12"}' \
  | show measurements.roof_squares
call "$CSA" POST "/jobs/$JOB/materials" '{"manufacturer": "GAF", "product": "Timberline HDZ",
  "colour": "Charcoal", "quantity_squares": "32.5", "supplier": "ABC Supply"}' \
  | show materials.manufacturer materials.product
call "$CSA" POST "/jobs/$JOB/documents" \
  '{"type": "photo", "checklist": "property", "location": "https://files.example/elm-st/front.jpg"}' \
  | show documents.-1.checklist documents.-1.uploaded_by

echo "8. The hand-off goes through; production_schedule sets the deadline to schedule it by."
call "$CSA" POST "/jobs/$JOB/handoff" | show production_status handed_off_at
call "$PRODUCTION" GET "/jobs/deadlines?within_days=30" | python3 -c \
  "import json,sys; [print(f\"  {d['task']} due {d['due_at']} ({d['status']}, escalate to {d['escalate_to']})\") for d in json.load(sys.stdin) if d['job_id']==sys.argv[1]]" "$JOB"

echo "9. Pat (production manager) puts Ivan in messaging's directory, creates his crew, schedules"
echo "   the job and assigns the crew: Ivan is told by email (roofline mail lists it)."
message "$PRODUCTION" PUT /people/ivan \
  '{"user_id": "ivan", "name": "Ivan", "email": "ivan@crew.example", "roles": ["installer"]}' \
  | show user_id email roles
CREW=$(call "$PRODUCTION" POST /crews "{\"name\": \"Shingle crew $JOB\", \"trades\": [\"roofing\"],
  \"home_latitude\": 30.3, \"home_longitude\": -97.7, \"daily_capacity\": 1, \"member_ids\": [\"ivan\"]}" \
  | field "['crew_id']")
call "$PRODUCTION" POST "/jobs/$JOB/schedule" \
  "{\"start_date\": \"$(day 7)\", \"duration_days\": 2, \"complexity\": 2}" \
  | show production_status scheduling.start_date scheduling.duration_days
call "$PRODUCTION" POST "/jobs/$JOB/crew" "{\"crew_id\": \"$CREW\"}" | show team.crew_id

echo "10. The installer portal: Ivan sees the job (no money), Pat writes in its thread, Ivan reads it."
for _ in 1 2 3 4 5 6 7 8 9 10; do  # messaging learns the crew from jobs' event a moment later
  message "$INSTALLER" GET "/portal/jobs/$JOB" >/dev/null 2>&1 && break || sleep 1
done
message "$INSTALLER" GET "/portal/jobs/$JOB" | show property_address days materials.product
THREAD=$(message "$INSTALLER" GET "/jobs/$JOB/thread" | field "['thread']['thread_id']")
message "$PRODUCTION" POST "/threads/$THREAD/messages" \
  '{"body": "Dumpster arrives the day before; gate code 4411", "attachments": [{"name": "site.jpg",
  "content_type": "image/jpeg", "size_bytes": 48211, "location": "https://files.example/elm-st/site.jpg"}]}' \
  | show seq author_id body attachments.0.name
message "$INSTALLER" GET /unread | show total
message "$INSTALLER" POST "/threads/$THREAD/read" \
  "{\"up_to_seq\": 1, \"client_read_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}" | show marked
message "$PRODUCTION" GET "/threads/$THREAD/messages/1/seen-by" | show 0.user_id 0.read_at 0.client_read_at

echo "11. Ivan's crew starts; Pete (project manager) uploads the Post Roof Inspection photos; Ann confirms."
call "$INSTALLER" POST "/jobs/$JOB/start" | show production_status
call "$PM" POST "/jobs/$JOB/documents" \
  '{"type": "photo", "checklist": "post_roof_inspection", "location": "https://files.example/elm-st/done.jpg"}' \
  | show documents.-1.checklist documents.-1.uploaded_by
call "$CSA" POST "/jobs/$JOB/complete" | show production_status
call "$CSA" POST "/jobs/$JOB/milestone" '{"to": "completed"}' | show milestone production_status

echo "12. Completed: the surveys policy schedules Dana's satisfaction survey (a business day later)."
for _ in 1 2 3 4 5 6 7 8 9 10; do  # messaging hears of the completion a moment later
  message "$PRODUCTION" GET "/jobs/$JOB/survey" >/dev/null 2>&1 && break || sleep 1
done
message "$PRODUCTION" GET "/jobs/$JOB/survey" | show contact_email send_at expires_at

echo "13. Bea (billing) invoices Dana: the draft bills the job's line items; sending it moves the"
echo "    job to Invoiced. Closing waits for the balance and for the job's expenses."
INVOICE=$(money "$BILLER" POST "/jobs/$JOB/invoices" '{}' | field "['invoice_id']")
money "$BILLER" GET "/invoices/$INVOICE" | show number bill_to lines.0.description total due
money "$BILLER" POST "/invoices/$INVOICE/send" | show number status
for _ in 1 2 3 4 5 6 7 8 9 10; do  # jobs hears of the invoice a moment later
  [ "$(call "$CSA" GET "/jobs/$JOB" | field "['milestone']")" = invoiced ] && break || sleep 1
done
call "$CSA" GET "/jobs/$JOB" | show milestone
refused "$CSA" POST "/jobs/$JOB/milestone" '{"to": "closed"}' | show title missing

echo "14. Bea enters the job's expenses, paid, and confirms they are all in; then she records Dana's"
echo "    check for the balance. Billing reports both, and jobs releases the job and closes it."
money "$BILLER" POST "/jobs/$JOB/expenses" \
  "{\"category\": \"materials\", \"vendor\": \"ABC Supply\", \"amount\": \"5120.00\", \"incurred_on\": \"$(day 0)\", \"paid_on\": \"$(day 0)\"}" \
  | show total paid unpaid
money "$BILLER" PUT "/jobs/$JOB/expenses/entered" '{"entered": true}' | show entered settled
money "$BILLER" GET "/jobs/$JOB/balance" | show contract_price payments balance
money "$BILLER" POST "/jobs/$JOB/payments" \
  "{\"amount\": \"12480.00\", \"received_on\": \"$(day 0)\", \"method\": \"check\", \"description\": \"check #1042\"}" \
  | show record.kind record.amount record.method balance.balance
for _ in 1 2 3 4 5 6 7 8 9 10; do  # jobs hears of them a moment later
  [ "$(call "$CSA" GET "/jobs/$JOB" | field "['milestone']")" = closed ] && break || sleep 1
done
call "$CSA" GET "/jobs/$JOB" | show milestone production_status history.-1.by history.-1.reason
echo "tour complete: job $JOB is paid and closed"
