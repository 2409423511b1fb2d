"""FHIR Subscriptions (R4B topic-based, the backport profile R4 clients use): topics, subscriptions,
notification Bundles, the websocket and rest-hook channels, fed by the bus and the outbox.

Live vitals and alarms come from the bus in each api process (`dispatcher`), appointments and lab
results from the outbox in `ownat worker` (`feed`); both record numbered events once per
subscription (a unique key keeps several instances from recording one twice), publish the
notification on `fhir.subscription.<id>` for websockets and queue it for rest-hooks (`hooks`).
"""
