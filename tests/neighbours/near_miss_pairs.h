// Labelled near-miss pairs for the similar-goal guard (issue 14).
//
// kMustNotServe: a plan cached for `b` must never answer `a` — different
// entities, negations, numbers, dates, versions, environments, paths,
// identifiers, quoted strings, objects, verbs, antonyms and reversed
// directions. Many come from the wrong answers other caches gave
// ("President of Pakistan" / "... of India"; a negated goal scoring 0.83).
// kSafeRewordings: `b` is `a` reworded only in stopwords, punctuation, case,
// inflection, compounds, spelled numbers or listed synonyms; these should be
// served.
//
// `reason` is the veto expected for a must-not pair ("" when the pair is
// expected to fail on the score floor or when any reason will do).
#pragma once

#include <array>
#include <string_view>

namespace plancache::testing {

struct NearMissPair {
  std::string_view a;
  std::string_view b;
  std::string_view reason;
};

inline constexpr std::array kMustNotServe = {
    // Entities.
    NearMissPair{"Who is the President of Pakistan", "Who is the President of India", "entity"},
    NearMissPair{"President of Pakistan", "President of India", "entity"},
    NearMissPair{"What is the capital of France?", "What is the capital of Germany?", "entity"},
    NearMissPair{"Book a flight to New York", "Book a flight to New Jersey", "entity"},
    NearMissPair{"configure AWS credentials", "configure GCP credentials", "entity"},
    NearMissPair{"compare React and Vue", "compare React and Angular", "entity"},
    NearMissPair{"the US election results", "us election results", "entity"},
    // Negations and antonyms.
    NearMissPair{"Do not delete the logs", "Delete the logs", "negation"},
    NearMissPair{"deploy the app with migrations", "deploy the app without migrations", "negation"},
    NearMissPair{"enable caching for the api", "disable caching for the api", "negation"},
    NearMissPair{"list all files except tests", "list all files including tests", "negation"},
    NearMissPair{"users who never logged in", "users who logged in", "negation"},
    NearMissPair{"why isn't the build passing", "why is the build passing", "negation"},
    NearMissPair{"I cannot connect to the database", "I can connect to the database", "negation"},
    NearMissPair{"should I use postgres", "should I not use postgres", "negation"},
    NearMissPair{"sort the results ascending", "sort the results descending", "negation"},
    NearMissPair{"increase the memory limit", "decrease the memory limit", "negation"},
    NearMissPair{"add the user to the admin group", "remove the user from the admin group",
                 "negation"},
    NearMissPair{"show unread emails", "show read emails", "negation"},
    NearMissPair{"copy the file to the server", "copy the file from the server", "negation"},
    NearMissPair{"buy Apple stock", "sell Apple stock", "negation"},
    NearMissPair{"is the server up", "is the server down", "negation"},
    NearMissPair{"turn on dark mode", "turn off dark mode", "negation"},
    NearMissPair{"start the server", "stop the server", "negation"},
    NearMissPair{"grant read access to bob", "grant write access to bob", "negation"},
    NearMissPair{"count rows where status is active", "count rows where status is inactive",
                 "negation"},
    // Numbers.
    NearMissPair{"scale the web service to 3 replicas", "scale the web service to 5 replicas",
                 "number"},
    NearMissPair{"summarise this article in three sentences",
                 "summarise this article in five sentences", "number"},
    NearMissPair{"kill process 1234", "kill process 4321", "number"},
    NearMissPair{"give me the 2nd largest value", "give me the 3rd largest value", "number"},
    NearMissPair{"set the discount to 10%", "set the discount to 15%", "number"},
    NearMissPair{"transfer $500 to savings", "transfer $5000 to savings", "number"},
    NearMissPair{"install python 3.11", "install python 3.12", "number"},
    NearMissPair{"approve PR 42", "approve PR 43", "number"},
    NearMissPair{"open port 8080", "open port 80", "number"},
    NearMissPair{"Ubuntu 22.04 install docker", "Ubuntu 20.04 install docker", "number"},
    // Dates and times.
    NearMissPair{"book a table for tomorrow", "book a table for today", "date"},
    NearMissPair{"show sales for 2023", "show sales for 2024", "date"},
    NearMissPair{"generate the report for 2024-05-01", "generate the report for 2024-06-01",
                 "date"},
    NearMissPair{"schedule the meeting on Monday", "schedule the meeting on Friday", "date"},
    NearMissPair{"list invoices from March", "list invoices from April", "date"},
    NearMissPair{"Who won the 2018 World Cup", "Who won the 2022 World Cup", "date"},
    NearMissPair{"email the report weekly", "email the report daily", "date"},
    NearMissPair{"remind me in 5 minutes", "remind me in 5 hours", "date"},
    NearMissPair{"increase the timeout to 30 seconds", "increase the timeout to 60 seconds",
                 "number"},
    // Versions.
    NearMissPair{"upgrade node to v18.2", "upgrade node to v20.1", "version"},
    NearMissPair{"pin requests to 2.31.0", "pin requests to 2.32.0", "version"},
    NearMissPair{"create a python3.11 virtualenv", "create a python3.12 virtualenv", "version"},
    // Environments.
    NearMissPair{"deploy the web app to staging", "deploy the web app to production",
                 "environment"},
    NearMissPair{"run migrations on dev", "run migrations on prod", "environment"},
    NearMissPair{"rotate the qa database credentials", "rotate the uat database credentials",
                 "environment"},
    // Paths.
    NearMissPair{"open /etc/nginx/nginx.conf", "open /etc/nginx/sites.conf", "path"},
    NearMissPair{"delete C:\\Temp\\old", "delete C:\\Temp\\new", "path"},
    NearMissPair{"parse config.yaml", "parse config.yml", "path"},
    NearMissPair{"list files in ./src", "list files in ./test", "path"},
    // Identifiers.
    NearMissPair{"restart host-01", "restart host-02", "identifier"},
    NearMissPair{"rename the user_id column", "rename the user_name column", "identifier"},
    NearMissPair{"patch CVE-2021-44228", "patch CVE-2021-45046", "identifier"},
    NearMissPair{"email alice@example.com the report", "email bob@example.com the report",
                 "identifier"},
    NearMissPair{"fetch https://example.com/a", "fetch https://example.com/b", "identifier"},
    NearMissPair{"find usages of getUser", "find usages of getUsers", "identifier"},
    NearMissPair{"what's 2+2", "what's 2+3", "identifier"},
    NearMissPair{"resize the image to 800x600", "resize the image to 1024x768", "identifier"},
    // Quoted strings.
    NearMissPair{"search the logs for 'timeout'", "search the logs for 'refused'", "quoted"},
    NearMissPair{"run `make test`", "run `make build`", "quoted"},
    NearMissPair{"replace \"foo\" with \"bar\"", "replace \"bar\" with \"foo\"", "word_order"},
    NearMissPair{"search for \"error\"", "search for error", "quoted"},
    // Other objects, verbs and qualifiers.
    NearMissPair{"restart nginx", "restart apache", "content_word"},
    NearMissPair{"list users", "delete users", "content_word"},
    NearMissPair{"write a function to reverse a string", "write a function to reverse a list",
                 "content_word"},
    NearMissPair{"find the cheapest flight to Paris", "find the most expensive flight to Paris",
                 ""},
    NearMissPair{"reset my password", "reset your password", "content_word"},
    NearMissPair{"summarize the meeting notes", "summarize the meeting", "content_word"},
    NearMissPair{"delete all users", "delete some users", "content_word"},
    NearMissPair{"rollback to the previous release", "rollback to the next release",
                 "content_word"},
    NearMissPair{"ssh into db-primary", "ssh into db-replica", "content_word"},
    NearMissPair{"set x > 5", "set x < 5", "content_word"},
    NearMissPair{"list pods in namespace kube-system", "list pods in namespace kube-public",
                 "content_word"},
    NearMissPair{"tag the image as latest", "tag the image as stable", "content_word"},
    NearMissPair{"explain quantum computing to a child", "explain quantum computing to an expert",
                 "content_word"},
    NearMissPair{"make the button bigger", "make the button smaller", "negation"},
    NearMissPair{"set LOG_LEVEL to debug", "set LOG_LEVEL to info", "content_word"},
    // Reversed directions: the same words, another meaning.
    NearMissPair{"convert celsius to fahrenheit", "convert fahrenheit to celsius", "word_order"},
    NearMissPair{"translate this from English to French", "translate this from French to English",
                 "word_order"},
    NearMissPair{"merge feature into main", "merge main into feature", "word_order"},
};

inline constexpr std::array kSafeRewordings = {
    NearMissPair{"Deploy the web app to staging", "deploy web app to staging", ""},
    NearMissPair{"set up nginx on the server", "setup nginx on server", ""},
    NearMissPair{"install docker", "installing Docker", ""},
    NearMissPair{"restart nginx", "Restart nginx.", ""},
    NearMissPair{"How to install docker", "install docker", ""},
    NearMissPair{"please restart the nginx service", "restart nginx service", ""},
    NearMissPair{"deploy to production", "deploy to prod", ""},
    NearMissPair{"create a new database", "create new db", ""},
    NearMissPair{"list the running containers", "list running containers", ""},
    NearMissPair{"configure the firewall", "configuring the firewall", ""},
    NearMissPair{"restart the server", "restart the servers", ""},
    NearMissPair{"delete the temporary files", "delete temporary files", ""},
    NearMissPair{"Can you summarise this article?", "summarise this article", ""},
    NearMissPair{"back up the database", "backup the database", ""},
    NearMissPair{"check out the release branch", "checkout release branch", ""},
    NearMissPair{"update all packages", "updating all packages", ""},
    NearMissPair{"scale web service to three replicas", "scale the web service to 3 replicas", ""},
    NearMissPair{"don't delete the logs", "do not delete the logs", ""},
    NearMissPair{"I cannot connect to the database", "I can't connect to the database", ""},
    NearMissPair{"log in to the dashboard", "login to the dashboard", ""},
    NearMissPair{"run the unit tests", "run unit tests", ""},
    NearMissPair{"show the disk usage", "display disk usage", ""},
    NearMissPair{"Write a Python function to reverse a string",
                 "write a python function to reverse a string", ""},
    NearMissPair{"build the docker image", "Build the Docker image!", ""},
    NearMissPair{"clean up old docker images", "cleanup old docker images", ""},
    NearMissPair{"generate a report of failed jobs", "generate report of failed jobs", ""},
    NearMissPair{"fix the failing tests", "fixing failing tests", ""},
    NearMissPair{"migrate the database schema", "migrate database schema", ""},
    NearMissPair{"search the logs for 'timeout'", "search logs for 'timeout'", ""},
    NearMissPair{"open /etc/nginx/nginx.conf", "Open /etc/nginx/nginx.conf", ""},
    NearMissPair{"restart host-01", "please restart host-01", ""},
    NearMissPair{"rotate the api keys", "rotate api keys", ""},
    NearMissPair{"compress the log files", "compress log files", ""},
    NearMissPair{"set up a web-app", "set up a web app", ""},
    NearMissPair{"Deploy version 1.2.3 to staging", "deploy version 1.2.3 to the staging", ""},
    NearMissPair{"how do I reset the password", "reset the password", ""},
    NearMissPair{"list the users and groups", "list users and groups", ""},
    NearMissPair{"help me debug the login page", "debug the login page", ""},
    NearMissPair{"send the invoices to accounting", "send invoices to accounting", ""},
    NearMissPair{"enable caching for the api", "enable caching for the API", ""},
    NearMissPair{"restart nginx on the staging server", "restart nginx on staging servers", ""},
    NearMissPair{"install nginx and docker", "install nginx & docker", ""},
};

}  // namespace plancache::testing
