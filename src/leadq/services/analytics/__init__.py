"""Analytics: the KPIs by source, campaign, segment and week (conversion, qualification, time to
convert, cost per lead, lifetime value, engagement), the dashboard's figures, and campaign costs."""
