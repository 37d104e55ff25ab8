#!/usr/bin/env bats
# End-to-end checks of the annotated module with `awi` (make e2e-tests). AWI is the command
# that runs awi, MODULE the module under test; both are set by the Makefile. Needs bats and
# jq.

setup() {
  : "${AWI:?set AWI to the awi command, e.g. AWI=awi}"
  : "${MODULE:=annotated-policy.wasm}"
}

# The base64 JSON Patch of the AdmissionReview response in $output, decoded.
patch_of_output() {
  jq -er '.response.patch' <<<"$output" | base64 -d
}

@test "the module carries Kubewarden's metadata section" {
  [ -s "$MODULE" ]
  grep -qa 'io.kubewarden.metadata' "$MODULE"
}

@test "a Pod whose ServiceAccount has a role is admitted with the credentials patch" {
  run $AWI review examples/review.json --settings examples/settings.yaml \
    --service-account examples/serviceaccount.yaml --module "$MODULE"
  echo "output = ${output}"
  [ "$status" -eq 0 ]
  [ "$(jq -r '.response.allowed' <<<"$output")" = true ]
  [ "$(jq -r '.response.patchType' <<<"$output")" = JSONPatch ]
  patch=$(patch_of_output)
  echo "patch = ${patch}"
  # The host computes the patch as a diff of the mutated Pod, so look for the values, not
  # for one shape of operations.
  jq -e 'length > 0 and all(.[]; .op == "add" or .op == "replace" or .op == "remove")' <<<"$patch"
  jq -e 'any(.. | objects; .serviceAccountToken?.audience == "sts.amazonaws.com")' <<<"$patch"
  jq -e 'any(.. | strings; . == "aws-iam-token")' <<<"$patch"
  jq -e 'any(.. | objects; .name? == "AWS_ROLE_ARN"
    and .value == "arn:aws:iam::111122223333:role/payments-api")' <<<"$patch"
}

@test "the same review as a diff lists the added env, mount and volume" {
  run $AWI review examples/review.json --settings examples/settings.yaml \
    --service-account examples/serviceaccount.yaml --module "$MODULE" --diff
  echo "output = ${output}"
  [ "$status" -eq 0 ]
  [[ "$output" == *"admitted with changes"* ]]
  [[ "$output" == *"+ env AWS_ROLE_ARN=arn:aws:iam::111122223333:role/payments-api"* ]]
  [[ "$output" == *"+ volumeMount aws-iam-token"* ]]
  [[ "$output" == *"+ volume aws-iam-token"* ]]
}

@test "the ServiceAccount policy refuses a ServiceAccount its role does not trust" {
  run $AWI review examples/review-serviceaccount.json \
    --settings examples/serviceaccount-policy.yaml --module "$MODULE"
  echo "output = ${output}"
  [ "$status" -eq 1 ]
  [ "$(jq -r '.response.allowed' <<<"$output")" = false ]
  [ "$(jq -r '.response.status.code' <<<"$output")" = 403 ]
  [[ "$(jq -r '.response.status.message' <<<"$output")" == *"role payments-api does not trust system:serviceaccount:payments:web"* ]]
}

@test "the workload policy refuses a Deployment whose ServiceAccount's role does not trust it" {
  run $AWI review examples/review-deployment.json --settings examples/workload-policy.yaml \
    --service-account examples/serviceaccount-web.yaml --module "$MODULE"
  echo "output = ${output}"
  [ "$status" -eq 1 ]
  [ "$(jq -r '.response.allowed' <<<"$output")" = false ]
  [ "$(jq -r '.response.patch' <<<"$output")" = null ]
  [[ "$(jq -r '.response.status.message' <<<"$output")" == "Deployment payments/web: ServiceAccount payments/web: role payments-api does not trust"* ]]
}

@test "settings the policy refuses are bad input" {
  run $AWI review examples/review.json --settings host/tests/data/settings-invalid.yaml \
    --module "$MODULE"
  echo "output = ${output}"
  [ "$status" -eq 2 ]
  [[ "$output" == *"invalid settings"* ]]
  [[ "$output" == *"tokenExpiration"* ]]
}
