#!/usr/bin/env bash
# What each function's binary links: a function carries only its own verb, and its IAM policy
# grants every DynamoDB action it calls. Builds the functions
# (debug: symbols kept) and fails when a binary holds code it must not. `nm -C` names every
# function the linker kept; unreachable code is dropped, so a symbol here means reachable code
# (drop glue of a field type aside).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

functions=(authorizer cleanup create get list update delete networks power console snapshot sshcas protection actions regions worker securitygroups)
cargo build --quiet $(printf -- '-p %s ' "${functions[@]}")

# No function carries aws-lc (one TLS/crypto stack: rustls with ring) or another verb's use-case;
# only cleanup publishes events (the others write the outbox with their record writes). Cleanup
# and the worker (it matches the sweep's slices) link the user-data merge (mail_builder) and
# create's port and server specs: a server placed again for capacity gets what its create sent
# Nova. Cleanup and the worker open sealed secrets (a network identity's password);
# networks opens (never seals) what a v1 identity's read hands out.
always='aws_lc|usecase::cleanup::run|aws_sdk_eventbridge'
store_only="$always|provider::openstack|aws_sdk_secretsmanager|Sealer::(seal|open)| aes_gcm::|mail_builder|usecase::create::|usecase::power::"
declare -A forbidden=(
  [authorizer]="$always|provider::openstack|usecase::|Sealer::(seal|open)|mail_builder"
  [cleanup]="aws_lc|usecase::create::create_server|usecase::power::power|usecase::snapshot::snapshot"
  [create]="$always|usecase::power::power|usecase::snapshot::|usecase::list::list_servers|usecase::delete::"
  [get]="$always|usecase::create::|usecase::power::power|usecase::snapshot::|usecase::list::list_servers|Sealer::(seal|open)| aes_gcm::|mail_builder"
  [list]="$store_only|usecase::get::|usecase::networks::"
  [update]="$always|usecase::create::create_server|usecase::power::power|usecase::snapshot::|Sealer::(seal|open)| aes_gcm::|mail_builder"
  [delete]="$always|usecase::create::create_server|usecase::power::power|usecase::snapshot::|Sealer::(seal|open)| aes_gcm::|mail_builder"
  [networks]="$always|provider::openstack|Sealer::seal|mail_builder|usecase::create::|usecase::power::|usecase::list::list_servers|usecase::sshcas::"
  [power]="$always|usecase::create::create_server|usecase::snapshot::|usecase::list::list_servers|Sealer::(seal|open)| aes_gcm::|mail_builder"
  [console]="$always|usecase::create::create_server|usecase::power::power|usecase::snapshot::|mail_builder"
  [snapshot]="$always|usecase::create::create_server|usecase::power::power|usecase::list::list_servers|Sealer::(seal|open)| aes_gcm::|mail_builder"
  [sshcas]="$store_only|usecase::list::list_servers|usecase::networks::"
  [securitygroups]="$store_only|usecase::list::list_servers|usecase::sshcas::|usecase::security_groups::provision::"
  [protection]="$store_only|usecase::list::list_servers|usecase::networks::|usecase::actions::"
  [actions]="$store_only|usecase::list::list_servers|usecase::networks::|usecase::protection::"
  [worker]="$always|usecase::create::create_server|usecase::power::power|usecase::snapshot::|usecase::list::list_servers|usecase::delete::"
  [regions]="$always|usecase::create::|usecase::power::power|usecase::snapshot::snapshot|usecase::list::list_servers|usecase::networks::|Sealer::(seal|open)| aes_gcm::|mail_builder"
)
# The DynamoDB actions a function's IAM policy in the template grants.
granted() {
  awk -v res="  ${1^}Function:" '$0 == res {on = 1; next} on && /^  [A-Za-z]+:$/ {exit}
    on && /- dynamodb:/ {sub(/.*dynamodb:/, ""); print}' infra/template.yaml | sort -u
}

# The DynamoDB actions a binary calls (a transaction needs the item actions it carries).
called() {
  nm -C "$1" | grep -v drop_in_place | grep -Eo 'aws_sdk_dynamodb::operation::[a-z_]+::[A-Za-z]+::orchestrate' \
    | sed -E 's/.*::([A-Za-z]+)::orchestrate/\1/' \
    | sed 's/^TransactWriteItems$/PutItem\nUpdateItem\nDeleteItem/' | sort -u
}

status=0
for f in "${functions[@]}"; do
  bin="$TARGET_DIR/debug/$f"
  missing=$(comm -23 <(called "$bin") <(granted "$f"))
  if [ -n "$missing" ]; then
    echo "$f calls DynamoDB actions its IAM policy in infra/template.yaml does not grant:" $missing >&2
    status=1
  fi
done
for f in "${functions[@]}"; do
  bin="$TARGET_DIR/debug/$f"
  found=$(nm -C "$bin" | grep -v drop_in_place | grep -Eo "${forbidden[$f]}" | sort | uniq -c || true)
  if [ -n "$found" ]; then
    echo "$f links code it must not:" >&2
    echo "$found" >&2
    status=1
  else
    printf 'links only its verb: %-10s (%d symbols)\n' "$f" "$(nm "$bin" | wc -l)"
  fi
done
exit $status
