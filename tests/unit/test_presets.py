"""Each import preset recognises its vendor's documented export header and maps it onto leadq's
fields; no header is taken for another vendor's. The headers are the vendors' own layouts (the
preset files name the documents they come from)."""

from __future__ import annotations

import pytest

from leadq.services.intake.imports import plan
from leadq.services.intake.presets import presets

HEADERS = {
    "salesforce-lead": (
        "Id,IsDeleted,MasterRecordId,LastName,FirstName,Salutation,Name,Title,Company,Street,City,"
        "State,PostalCode,Country,Latitude,Longitude,GeocodeAccuracy,Address,Phone,Email,Website,"
        "PhotoUrl,Description,LeadSource,Status,Industry,Rating,AnnualRevenue,NumberOfEmployees,"
        "OwnerId,IsConverted,ConvertedDate,ConvertedAccountId,ConvertedContactId,"
        "ConvertedOpportunityId,IsUnreadByOwner,CreatedDate,CreatedById,LastModifiedDate"
    ),
    "salesforce-contact": (
        "Id,IsDeleted,MasterRecordId,AccountId,LastName,FirstName,Salutation,Name,MailingStreet,"
        "MailingCity,MailingState,MailingPostalCode,MailingCountry,Phone,Fax,MobilePhone,Email,"
        "Title,Department,LeadSource,Birthdate,OwnerId,HasOptedOutOfEmail,DoNotCall,CreatedDate"
    ),
    "hubspot-contacts": (  # the default view's export
        "Record ID,First Name,Last Name,Email,Phone Number,Contact owner,"
        "Primary Associated Company ID,Last Activity Date,Lead Status,Marketing contact status,"
        "Create Date,Associated Company"
    ),
    "pipedrive-persons": (
        "Person - ID,Person - Name,Person - First name,Person - Last name,Person - Organization,"
        "Person - Organization ID,Person - Job title,Person - Email - Work,Person - Email - Home,"
        "Person - Phone - Work,Person - Phone - Mobile,Person - Labels,Person - Owner,"
        "Person - Person created,Person - Update time"
    ),
    "zoho-leads": (  # "Standard Fields in Leads"
        "Record Id,Lead Owner,Salutation,First Name,Title,Last Name,Company,Lead Source,Industry,"
        "Annual Revenue,Phone,Mobile,Fax,Email,Secondary Email,Skype ID,Website,Lead Status,"
        "Rating,No. of Employees,Email Opt Out,Created By,Modified By,Created Time,Modified Time,"
        "Street,City,State,Zip Code,Country,Description,Twitter,Last Activity Time"
    ),
    "mautic-contacts": (
        "id,title,firstname,lastname,company,position,email,mobile,phone,points,fax,address1,"
        "address2,city,state,zipcode,country,preferred_locale,timezone,last_active,"
        "attribution_date,attribution,website,facebook,foursquare,instagram,linkedin,skype,"
        "twitter,stage"
    ),
}
HUBSPOT_ALL = (  # an "all properties" export, labels in the sentence case of newer accounts
    "Record ID,First name,Last name,Annual revenue,City,Company name,Contact owner,"
    "Country/Region,Create date,Email,Industry,Job title,Lead status,Lifecycle stage,"
    "Mobile phone number,Number of employees,Original source,Phone number,State/Region"
)


def test_every_shipped_preset_has_a_documented_header() -> None:
    assert set(presets()) == set(HEADERS)


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_the_header_picks_its_preset_and_fills_leadqs_fields(name: str) -> None:
    chosen = plan(HEADERS[name].split(","), {})
    assert chosen.preset.name == name
    fields = set(chosen.targets.values())
    assert {"email", "first_name", "last_name"} <= fields
    assert not any(t.startswith("attributes.") and t[11:] in {"FirstName", "First Name"}
                   for t in fields)  # fmt: skip
    if name != "mautic-contacts":  # Mautic does not export a creation time
        assert "created_at" in fields
    if name in ("salesforce-lead", "zoho-leads", "mautic-contacts"):
        assert "status" in fields


def test_labels_match_whatever_their_case() -> None:
    chosen = plan(HUBSPOT_ALL.split(","), {})
    assert chosen.preset.name == "hubspot-contacts"
    assert {chosen.targets[c] for c in ("Job title", "Lifecycle stage", "Create date",
                                        "Company name", "Number of employees")} == {
        "job_title", "status", "created_at", "company", "company_size"}  # fmt: skip


def test_a_plain_file_uses_leadqs_own_names() -> None:
    chosen = plan(["email", "first_name", "Company", "Plan"], {})
    assert chosen.preset.name == "generic"
    assert chosen.targets == {"email": "email", "first_name": "first_name", "Company": "company",
                              "Plan": "attributes.Plan"}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "status", "stage"),
    [("salesforce-lead", "Closed - Not Converted", "unqualified"),
     ("salesforce-lead", "working -  contacted", "sal"),
     ("hubspot-contacts", "marketingqualifiedlead", "mql"),
     ("hubspot-contacts", "Sales Qualified Lead", "sql"),
     ("zoho-leads", "Junk Lead", "disqualified"),
     ("zoho-leads", "Pre Qualified", "mql")],
)  # fmt: skip
def test_statuses_mean_stages(name: str, status: str, stage: str) -> None:
    assert presets()[name].stage_of(status, {}) == stage
    assert presets()[name].stage_of(status, {status.upper(): "nurture"}) == "nurture"
