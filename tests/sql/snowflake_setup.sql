-- The guide's Snowflake set-up statements, as written: what reco has built in (warehouse,
-- database, API integration, external functions, grants) runs nothing and says what reco does
-- instead, in one line each; show/describe list reco's own SQL functions.
-- options: --mode line
use role ACCOUNTADMIN;
create database MOVIELENS;
use schema movielens.public;
CREATE OR REPLACE WAREHOUSE COMPUTE_WH WITH WAREHOUSE_SIZE = 'XSMALL'
AUTO_SUSPEND = 60 AUTO_RESUME = TRUE;
create or replace api integration snf_recommender_api_integration
api_provider = aws_api_gateway
api_aws_role_arn = '<snf_ef_role_arn>'
enabled = true
api_allowed_prefixes = ('<https://api_endpoint_url>');
describe integration snf_recommender_api_integration;
create or replace external function train_and_get_recommendations(input_table_name varchar, output_table_name varchar)
    returns variant
    api_integration = snf_recommender_api_integration
    as '<TRAIN_ENDPOINT_URL>';
grant usage on function train_and_get_recommendations(varchar, varchar) to role sysadmin;
use role sysadmin;
show external functions;
show functions like '%model%';
describe function MOVIELENS.PUBLIC.invoke_model(varchar, varchar, varchar);
-- Bad input: an unknown function, a name missing, an unsupported SHOW form.
describe function train_model;
describe function;
show functions in account;
-- reco's own tables are untouched by all of the above.
select count(*) as tables from sqlite_schema where type = 'table';
