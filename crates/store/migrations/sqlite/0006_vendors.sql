-- Vendors (third-party suppliers) with support terms; tickets handed to a vendor run the
-- vendor's response and resolution clocks in the vendor's calendar.
CREATE TABLE vendors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    contacts TEXT NOT NULL,
    calendar_id INTEGER REFERENCES calendars (id),
    response_minutes INTEGER,
    resolution_minutes INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX vendors_name ON vendors (lower(name));

ALTER TABLE tickets ADD COLUMN vendor_id INTEGER REFERENCES vendors (id);
ALTER TABLE tickets ADD COLUMN vendor_ref TEXT;
-- Set on vendor clocks (vendor_response, vendor_resolution): whose terms they measure.
ALTER TABLE ticket_clocks ADD COLUMN vendor_id INTEGER;
CREATE INDEX ticket_clocks_vendor ON ticket_clocks (vendor_id, metric) WHERE vendor_id IS NOT NULL;
