"""Intake: how leads and what they did get in — the API's leads and events, CSV imports and
exports, public web forms — merged into one lead per person under the deployment's intake
policy, and the one way every use case reads (and locks) a lead by id."""
